import WarncastCore

/// The console's three files, served by warncastd itself (no CDN, no build step). The
/// script builds the page with DOM calls only: nothing from the API is ever parsed as HTML.
enum ConsoleAssets {
    static func page(title: String) -> String {
        let title = CAPWriter.escape(title)
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · 控制台</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/console/console.css">
            <script src="/console/console.js" defer></script>
            </head><body>
            <header><a class="node" href="#/">\(title)</a>
            <nav id="nav" aria-label="主菜单" hidden>
            <a href="#/">待审批 <span lang="en">Approvals</span></a>
            <a href="#/compose" id="nav-compose">发布预警 <span lang="en">Compose</span></a>
            <a href="#/warnings">预警列表 <span lang="en">Warnings</span></a>
            </nav>
            <span id="who"></span></header>
            <main id="main" tabindex="-1"><p>正在加载… <span lang="en">Loading…</span></p></main>
            <noscript><p>控制台需要 JavaScript。<span lang="en">The console needs JavaScript.</span></p></noscript>
            </body></html>

            """
    }

    static let style = #"""
        :root{--red:#c81414;--orange:#c25400;--yellow:#8a6d00;--blue:#1e5bd8;--ink:#1a1a1a;--muted:#555;--line:#ccc;--ok:#1b7a30}
        *{box-sizing:border-box}
        [hidden]{display:none!important}
        body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;color:var(--ink);line-height:1.5;background:#fafafa}
        header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#0d2b4e;color:#fff}
        header a{color:#fff}
        .node{font-weight:bold;text-decoration:none}
        nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem}
        #who{margin-left:auto;font-size:.9rem}
        main{padding:1rem;max-width:60rem;margin:0 auto}
        main:focus{outline:none}
        h1{font-size:1.3rem;margin:.2rem 0 .8rem}
        h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
        label{display:block;font-weight:bold;margin:.6rem 0 .2rem}
        input,select,textarea,button{font:inherit;font-size:1rem}
        input,select,textarea{width:100%;padding:.45rem;border:1px solid #777;border-radius:.25rem;background:#fff}
        textarea{min-height:4.5rem}
        input[type=checkbox]{width:auto;margin-right:.4rem}
        button{padding:.55rem 1rem;border:0;border-radius:.25rem;background:#0d2b4e;color:#fff;cursor:pointer;min-height:2.75rem}
        button.secondary{background:#fff;color:#0d2b4e;border:1px solid #0d2b4e}
        button.danger{background:var(--red)}
        button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f0a000;outline-offset:2px}
        .card{background:#fff;border:1px solid var(--line);border-left:.5rem solid var(--line);border-radius:.25rem;padding:.7rem 1rem;margin:.7rem 0}
        .card a{color:inherit}
        .level{display:inline-block;color:#fff;font-weight:bold;padding:0 .45rem;border-radius:.2rem;margin-right:.4rem}
        .level-red{border-left-color:var(--red)}.level-red .level,.level.level-red{background:var(--red)}
        .level-orange{border-left-color:var(--orange)}.level-orange .level,.level.level-orange{background:var(--orange)}
        .level-yellow{border-left-color:var(--yellow)}.level-yellow .level,.level.level-yellow{background:var(--yellow)}
        .level-blue{border-left-color:var(--blue)}.level-blue .level,.level.level-blue{background:var(--blue)}
        .meta{color:var(--muted);font-size:.9rem}
        .deadline{font-weight:bold}
        .late,.error{color:var(--red);font-weight:bold}
        .ok{color:var(--ok)}
        .actions{display:flex;flex-wrap:wrap;gap:.6rem;margin:.8rem 0}
        .row{display:flex;flex-wrap:wrap;gap:.6rem}.row>*{flex:1 1 12rem}
        table{border-collapse:collapse;width:100%;background:#fff;font-size:.95rem}
        th,td{border-bottom:1px solid var(--line);padding:.3rem .4rem;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums}
        .bar{height:.6rem;background:#e5e5e5;border-radius:.3rem;min-width:4rem}
        .bar span{display:block;height:100%;background:var(--ok);border-radius:.3rem}
        .chips{display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0}
        .chip{background:#e8eef6;border-radius:1rem;padding:.1rem .3rem .1rem .7rem}
        .chip button{min-height:auto;padding:0 .5rem;margin-left:.3rem;background:transparent;color:#0d2b4e}
        .matches{list-style:none;padding:0;margin:.3rem 0;max-height:14rem;overflow:auto;border:1px solid var(--line);background:#fff}
        .matches li button{width:100%;text-align:left;background:#fff;color:var(--ink);border-radius:0;min-height:2.4rem}
        .matches li button:hover{background:#eef}
        .preview{white-space:pre-wrap;background:#fff;border:1px dashed #888;padding:.5rem;margin:.3rem 0;font-size:.95rem}
        .language{border:1px solid var(--line);border-radius:.25rem;padding:.2rem .8rem .8rem;margin:.8rem 0;background:#fff}
        .message{padding:.6rem;border-radius:.25rem;margin:.6rem 0}
        .message.error{background:#fde8e8}.message.ok{background:#e6f4e9}
        svg text{font-size:10px}
        #coverage-map{max-width:100%;height:auto;display:block;margin:0 auto}
        td time{white-space:nowrap}
        td{overflow-wrap:anywhere}
        .scroll{overflow-x:auto;max-width:100%}
        @media (max-width:30rem){main{padding:.6rem}header{padding:.5rem .6rem}}
        """#

    static let script = #"""
        'use strict';
        // The Warncast console: one page, rebuilt from the API for each view (#/ … in the URL).
        // Data is only ever set as text (textContent, attributes), never as HTML.

        const LEVELS = {red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色'};
        const LEVEL_EN = {red: 'Red', orange: 'Orange', yellow: 'Yellow', blue: 'Blue'};
        const SEVERITY = {red: 'Extreme', orange: 'Severe', yellow: 'Moderate', blue: 'Minor'};
        const STATUS = {pending_approval: '待审批', approved: '已批准', released: '已发布', rejected: '已驳回',
          superseded: '已更新', cancelled: '已解除', expired: '已过期'};
        const ROLES = {issuer: '发布员', approver: '审批人', operator: '运维', auditor: '审计', receiver: '接收端'};
        const CATEGORY = {weather: 'Met', water: 'Met', 'natural-resources': 'Geo', forestry: 'Fire'};
        let session = null;
        let leaving = [];  // what the current view must stop when another is shown (timers, streams)
        let currentView = 0;  // a view whose data arrives after another was asked for is dropped

        function el(tag, attributes, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attributes || {})) {
            if (value === undefined || value === null || value === false) continue;
            if (key === 'class') node.className = value;
            else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
            else node.setAttribute(key, value === true ? '' : String(value));
          }
          for (const child of children.flat(Infinity)) {
            if (child === undefined || child === null || child === false) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        const en = (text) => el('span', {lang: 'en'}, ' ', text);

        // An API call with the session's cookie; changes carry the CSRF token.
        async function api(method, path, body, type) {
          const headers = {Accept: 'application/json'};
          if (method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf;
          let payload;
          if (body !== undefined) {
            headers['Content-Type'] = type || 'application/json';
            payload = type ? body : JSON.stringify(body);
          }
          const response = await fetch(path, {method, headers, body: payload, credentials: 'same-origin'});
          const text = await response.text();
          let data = null;
          try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
          if (!response.ok) {
            const error = new Error((data && data.detail) || (response.status + ' ' + response.statusText));
            error.status = response.status;
            error.code = data && data.error;
            throw error;
          }
          return data;
        }

        // Times in the node's zone, as people here read them: 7月1日 08:00.
        function local(text) {
          if (!text) return '';
          const date = new Date(text);
          if (isNaN(date)) return text;
          const shifted = new Date(date.getTime() + session.offsetSeconds * 1000);
          const pad = (n) => String(n).padStart(2, '0');
          return `${shifted.getUTCMonth() + 1}月${shifted.getUTCDate()}日 ${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}`;
        }
        function time(text) { return el('time', {datetime: text}, local(text)); }
        // A moment's time of day in the node's zone: 08:00:05.
        function clock(date) {
          const shifted = new Date(date.getTime() + session.offsetSeconds * 1000);
          return shifted.toISOString().slice(11, 19);
        }
        // The node's local time as a CAP time with its offset: 2026-07-01T08:00:00+08:00.
        function capTime(date) {
          const offset = session.offsetSeconds;
          const shifted = new Date(date.getTime() + offset * 1000);
          const sign = offset < 0 ? '-' : '+';
          const hours = String(Math.floor(Math.abs(offset) / 3600)).padStart(2, '0');
          const minutes = String(Math.floor(Math.abs(offset) % 3600 / 60)).padStart(2, '0');
          return shifted.toISOString().slice(0, 19) + sign + hours + ':' + minutes;
        }
        // datetime-local input values are in the node's zone.
        function inputValue(date) { return capTime(date).slice(0, 16); }
        function fromInput(value) {
          const [day, clock] = value.split('T');
          const [y, m, d] = day.split('-').map(Number);
          const [h, min] = clock.split(':').map(Number);
          return new Date(Date.UTC(y, m - 1, d, h, min) - session.offsetSeconds * 1000);
        }

        function levelBadge(level) {
          return el('span', {class: `level level-${level}`}, `${LEVELS[level] || level}预警`);
        }
        function message(kind, text) { return el('p', {class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status'}, text); }

        // Stops what the view shown so far started; called before the next view is built.
        function leave() {
          for (const stop of leaving) stop();
          leaving = [];
        }

        function show(...nodes) {
          const main = document.getElementById('main');
          main.replaceChildren(...nodes);
          main.focus();
        }

        // ---- Signing in and out ----
        function signInView(problem) {
          leave();
          const user = el('input', {id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none'});
          const password = el('input', {id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true});
          const status = el('div', {'aria-live': 'polite'}, problem ? message('error', problem) : null);
          const form = el('form', {id: 'sign-in', onsubmit: async (event) => {
            event.preventDefault();
            status.replaceChildren();
            try {
              session = await api('POST', '/console/session', {username: user.value, password: password.value});
              started();
              route();  // the view the address asked for
            } catch (error) {
              const says = {
                bad_credentials: '用户名或密码错误。',
                too_many_attempts: '密码错误次数过多，请稍后再试（或请运维人员重启 warncastd）。',
              }[error.code];
              status.replaceChildren(message('error', says ? `${says} ${error.message}` : error.message));
            }
          }},
            el('h1', {}, '登录', en('Sign in')),
            el('label', {for: 'username'}, '用户名', en('User name')), user,
            el('label', {for: 'password'}, '密码', en('Password')), password,
            el('div', {class: 'actions'}, el('button', {type: 'submit', id: 'sign-in-button'}, '登录')),
            status);
          document.getElementById('nav').hidden = true;
          document.getElementById('who').replaceChildren();
          show(form);
          user.focus();
        }

        function started() {
          document.getElementById('nav').hidden = false;
          document.getElementById('nav-compose').hidden = session.role !== 'issuer';
          const out = el('button', {class: 'secondary', id: 'sign-out', onclick: async () => {
            try { await api('DELETE', '/console/session'); } catch (_) { /* gone already */ }
            session = null;
            // Drawn once: by the hash change, or here when the hash stays the same.
            if ((location.hash || '#/') === '#/') signInView(); else location.hash = '#/';
          }}, '退出');
          document.getElementById('who').replaceChildren(
            `${session.name}（${ROLES[session.role] || session.role}${session.approvalRole ? ' · ' + session.approvalRole : ''}）`, ' ', out);
        }

        // True while `view` is still the view asked for; its timers and streams are only
        // started while it is.
        const live = (view) => view === currentView;

        // ---- Approvals: the queue, phone first ----
        function countdown(deadline, stops) {
          const node = el('span', {class: 'deadline'});
          const tick = () => {
            const left = Math.round((new Date(deadline) - Date.now()) / 1000);
            if (left <= 0) { node.textContent = `已超时 ${Math.floor(-left / 60)} 分 ${-left % 60} 秒`; node.className = 'deadline late'; }
            else node.textContent = `剩余 ${Math.floor(left / 60)} 分 ${left % 60} 秒`;
          };
          tick();
          const timer = setInterval(tick, 1000);
          (stops || leaving).push(() => clearInterval(timer));
          return node;
        }

        function terminalsLine(summary) {
          if (!summary) return null;
          if (!summary.terminals && !summary.unequippedCount) return el('p', {class: 'meta'}, '该区域没有登记的广播终端。');
          const parts = [`终端 ${summary.terminals} 台，在线 ${summary.online}，离线 ${summary.offline}`];
          if (summary.silentCount) parts.push(`${summary.silentCount} 个村无在线终端`);
          if (summary.unequippedCount) parts.push(`${summary.unequippedCount} 个村未装终端`);
          const gaps = summary.offline || summary.silentCount || summary.unequippedCount;
          return el('p', {class: gaps ? 'late' : 'ok'}, parts.join('；'));
        }

        async function approvalsView(view) {
          const list = el('div', {id: 'pending'});
          const updated = el('p', {class: 'meta', id: 'pending-updated'});
          async function fill() {
            const data = await api('GET', '/v1/approvals/pending');
            if (!live(view)) return;
            for (const stop of list.stops || []) stop();
            list.stops = [];
            const cards = data.pending.map((warning) => {
              const info = (warning.alert.info || [])[0] || {};
              return el('article', {class: `card level-${warning.level}`, 'data-id': warning.id},
                el('p', {}, levelBadge(warning.level), el('a', {href: `#/w/${warning.id}`}, info.headline || warning.event)),
                el('p', {class: 'meta'}, `${warning.submitterName || ''} · ${warning.department} · 提交 `, time(warning.receivedAt)),
                warning.approval && warning.approval.deadline ? el('p', {}, '期限 ', time(warning.approval.deadline), ' · ', countdown(warning.approval.deadline, list.stops)) : null,
                terminalsLine(warning.terminals));
            });
            list.replaceChildren(...(cards.length ? cards : [el('p', {id: 'none'}, '没有待审批的预警。', en('Nothing awaits approval.'))]));
            updated.textContent = `更新于 ${clock(new Date())}，每 30 秒刷新`;
          }
          await fill();
          if (!live(view)) return;
          show(el('h1', {}, '待审批', en('Awaiting approval')), updated, list);
          const timer = setInterval(() => fill().catch(() => { updated.textContent = '刷新失败，稍后重试'; }), 30000);
          leaving.push(() => { clearInterval(timer); for (const stop of list.stops || []) stop(); });
        }

        // ---- One warning: what, where, who; approve or reject; then watch it go out ----
        async function warningView(view, id) {
          const warning = await api('GET', `/v1/warnings/${encodeURIComponent(id)}`);
          let queue = null;
          if (warning.status === 'pending_approval') {
            try { queue = await api('GET', '/v1/approvals/pending'); } catch (_) { /* a role without the queue */ }
          }
          let timeline = null, history = null;
          try { timeline = await api('GET', `/v1/warnings/${warning.id}/timeline`); } catch (_) { /* not for this role */ }
          try { history = await api('GET', `/v1/warnings/${warning.id}/history`); } catch (_) { /* not for this role */ }
          if (!live(view)) return;
          const info = (warning.alert.info || [])[0] || {};
          const names = (info.area || []).map((area) => area.areaDesc).join('、');
          const status = el('div', {'aria-live': 'polite', id: 'decision-status'});
          const parts = [
            el('h1', {}, levelBadge(warning.level), info.headline || warning.event),
            el('p', {}, el('strong', {}, '状态 '), el('span', {id: 'status'}, STATUS[warning.status] || warning.status)),
            info.instruction ? el('p', {class: 'instruction'}, el('strong', {}, '防御指南 '), info.instruction) : null,
            el('p', {}, el('strong', {}, '区域 '), names || warning.areas.join(' '), el('span', {class: 'meta'}, ` (${warning.areas.join(' ')})`)),
            info.description ? el('p', {}, info.description) : null,
            el('p', {class: 'meta'}, `提交 ${warning.submitterName || ''} · ${warning.department} · `, time(warning.receivedAt),
              warning.expires ? [' · 截止 ', time(warning.expires)] : null),
          ];
          const approval = warning.approval || {};
          if (approval.approvals && approval.approvals.length) {
            parts.push(el('h2', {}, '审批记录'), el('ul', {}, approval.approvals.map((a) =>
              el('li', {}, `${a.name}（${a.role}）${a.decision === 'reject' ? '驳回' : '批准'} `, time(a.at), a.reason ? `：${a.reason}` : ''))));
          }
          if (warning.status === 'pending_approval') {
            if (approval.deadline) parts.push(el('p', {}, '审批期限 ', time(approval.deadline), ' · ', countdown(approval.deadline)));
            if (approval.missing && approval.missing.length) parts.push(el('p', {}, '尚缺：', approval.missing.map((m) => m.role).join('、')));
            const mine = queue && queue.pending.find((w) => w.id === warning.id);
            if (mine) parts.push(terminalsLine(mine.terminals));
            const mineDone = (approval.approvals || []).some((a) => a.name === session.name);
            if (session.role === 'approver' && mineDone) {
              parts.push(el('p', {class: 'ok', id: 'already'}, '您已对此预警作出决定，等待其他审批人。'));
            } else if (session.role === 'approver') {
              const reason = el('textarea', {id: 'reason', name: 'reason'});
              parts.push(
                el('label', {for: 'reason'}, '意见（驳回时必填）', en('Reason (required to reject)')), reason,
                el('div', {class: 'actions'},
                  el('button', {id: 'approve', onclick: () => decide('approve', reason.value)}, '批准发布', en('Approve')),
                  el('button', {id: 'reject', class: 'danger', onclick: () => decide('reject', reason.value)}, '驳回', en('Reject'))),
                status);
            }
          }
          async function decide(decision, reason) {
            status.replaceChildren();
            if (decision === 'reject' && !reason.trim()) { status.append(message('error', '驳回需要填写理由。')); return; }
            const buttons = [document.getElementById('approve'), document.getElementById('reject')];
            for (const button of buttons) if (button) button.disabled = true;
            try {
              const body = reason.trim() ? {reason: reason.trim()} : {};
              const answer = await api('POST', `/v1/warnings/${warning.id}/${decision}`, body);
              status.append(message('ok', decision === 'approve' ? `已批准。状态：${STATUS[answer.status] || answer.status}` : '已驳回。'));
              setTimeout(() => { if (location.hash === `#/w/${warning.id}`) route(); }, 800);
            } catch (error) {
              status.append(message('error', error.message));
              for (const button of buttons) if (button) button.disabled = false;
            }
          }
          if (['released', 'superseded', 'cancelled', 'expired'].includes(warning.status)) parts.push(coverage(warning));
          if (timeline) parts.push(timelineSection(timeline));
          if (history) parts.push(historySection(history));
          parts.push(el('h2', {}, '记录', en('Record')), el('p', {class: 'actions'},
            el('a', {href: `/v1/warnings/${warning.id}/cap`}, '收到的原始报文'),
            el('a', {href: `/v1/warnings/${warning.id}/history`}, '历史 (JSON)'),
            el('a', {href: `/v1/warnings/${warning.id}/timeline`}, '时间线 (JSON)'),
            el('a', {href: `/v1/warnings/${warning.id}/deliveries`}, '送达明细 (JSON)')));
          show(...parts);
        }

        // Submitted, decided, released, and when the villages were reached (all channels).
        function timelineSection(timeline) {
          const steps = [el('li', {}, '提交 ', time(timeline.submittedAt))];
          for (const d of timeline.decisions || []) {
            steps.push(el('li', {}, `${d.decision === 'reject' ? '驳回' : '批准'}（${d.name}，${d.role}） `, time(d.at)));
          }
          if (timeline.releasedAt) steps.push(el('li', {}, '发布 ', time(timeline.releasedAt)));
          const all = (timeline.coverage || []).find((c) => !c.channel);
          if (all && all.divisions) {
            const marks = [['首个', all.firstAt], ['50%', all.p50At], ['95%', all.p95At], ['100%', all.p100At]].filter(([, at]) => at);
            steps.push(el('li', {}, `村覆盖 ${all.reached}/${all.divisions}`, marks.map(([label, at]) => [` · ${label} `, time(at)])));
          }
          for (const step of timeline.late || []) {
            steps.push(el('li', {class: 'late'}, `${step.step === 'approval' ? '审批' : '覆盖'}超时：${step.detail || ''}`));
          }
          return el('section', {id: 'timeline'}, el('h2', {}, '时间线', en('Timeline')), el('ol', {}, steps));
        }

        // What an audit entry records, in words; the code stays beside it for the exports.
        const ACTIONS = {
          'warning.accepted': '提交', 'warning.released': '发布', 'warning.reviewed': '复核', 'warning.late': '审批超时',
          'warning.escalated': '督办', 'warning.rejected': '驳回', 'warning.superseded': '被更新', 'warning.cancelled': '被解除',
          'warning.expired': '过期', 'approval.recorded': '审批意见', 'deliveries.planned': '安排送达',
          'deliveries.superseded': '送达被取代', 'deliveries.resent': '重新送达', 'terminals.at_release': '发布时终端状况',
          'notice.sent': '通知值班人员', 'notice.failed': '通知值班人员失败', 'channels.blocked': '渠道受阻',
        };
        // `tok_… (name, role)` as the audit log writes a token's holder: the name and role.
        function actorName(actor) {
          const holder = /^tok_[0-9a-f]+ \((.*), ([a-z]+)\)$/.exec(actor);
          if (holder) return `${holder[1]}（${ROLES[holder[2]] || holder[2]}）`;
          if (actor.startsWith('system:')) return `系统（${actor.slice(7)}）`;
          return actor;
        }
        function entryDetail(entry) {
          let detail = {};
          try { detail = typeof entry.detail === 'string' ? JSON.parse(entry.detail || '{}') : (entry.detail || {}); } catch (_) { detail = {}; }
          if (entry.action === 'approval.recorded') {
            return `${detail.decision === 'reject' ? '驳回' : '批准'}${detail.reason ? '：' + detail.reason : ''}`;
          }
          if (entry.action === 'deliveries.planned' && detail.count) return `${detail.count} 个`;
          return '';
        }

        // Every audit entry about the warning: who did what, when.
        function historySection(history) {
          const rows = (history.entries || []).map((entry) => el('tr', {'data-action': entry.action},
            el('td', {}, time(entry.at)), el('td', {title: entry.actor}, actorName(entry.actor)),
            el('td', {}, ACTIONS[entry.action] || entry.action, ' ', el('span', {class: 'meta'}, entryDetail(entry)))));
          return el('section', {id: 'history'}, el('h2', {}, '历史', en('History')), el('div', {class: 'scroll'},
            el('table', {}, el('thead', {}, el('tr', {}, ['时间', '操作者', '事项'].map((h) => el('th', {scope: 'col'}, h)))), el('tbody', {}, rows))));
        }

        // Coverage per tier, live from the report's event stream; late steps from the timeline.
        function coverage(warning) {
          const box = el('section', {id: 'coverage', 'aria-live': 'polite'}, el('h2', {}, '覆盖情况', en('Coverage')), el('p', {}, '正在连接…'));
          const late = el('div', {id: 'late'});
          const state = el('p', {class: 'meta', id: 'coverage-state'});
          let at = null;
          const source = new EventSource(`/v1/warnings/${warning.id}/report/stream?depth=township`);
          leaving.push(() => source.close());
          source.addEventListener('report', async (event) => {
            const report = JSON.parse(event.data);
            await locate((report.tiers || []).filter((row) => row.tier === 'county').map((row) => row.region));
            at = new Date();
            state.className = 'meta';
            state.textContent = `实时：数字有变化时自动更新，最近一次变化 ${clock(at)}`;
            box.replaceChildren(el('h2', {}, '覆盖情况', en('Coverage')), state, tiers(report), picture(report), blindSpots(report), late);
          });
          source.onerror = () => {
            state.className = 'late';
            state.textContent = `连接中断${at ? '，以下为 ' + clock(at) + ' 的数据' : ''}；正在重连…`;
            // Closed for good (the session ended, the warning is out of reach): start again,
            // which signs in again when needed.
            if (source.readyState === EventSource.CLOSED) setTimeout(route, 3000);
          };
          const refreshLate = async () => {
            try {
              const timeline = await api('GET', `/v1/warnings/${warning.id}/timeline`);
              late.replaceChildren(...(timeline.late || []).map((step) => el('p', {class: 'late'},
                `${step.step === 'approval' ? '审批' : '覆盖'}超时：${step.detail || ''}`)));
            } catch (_) { /* shown again at the next refresh */ }
          };
          refreshLate();
          const timer = setInterval(refreshLate, 10000);
          leaving.push(() => clearInterval(timer));
          return box;
        }

        function share(row) { return row.targeted ? row.delivered / row.targeted : 0; }
        function percent(value) { return `${Math.floor(value * 1000) / 10}%`; }

        function tiers(report) {
          const rows = (report.tiers || []).filter((row) => ['province', 'city', 'county'].includes(row.tier));
          return el('table', {id: 'tiers'},
            el('thead', {}, el('tr', {}, ['地区', '目标', '送达', '收听', '失败', '覆盖率'].map((h) => el('th', {scope: 'col'}, h)))),
            el('tbody', {}, rows.map((row) => el('tr', {'data-region': row.region, 'data-share': share(row).toFixed(4)},
              el('td', {}, row.name || row.region), el('td', {class: 'n'}, row.targeted), el('td', {class: 'n'}, row.delivered),
              el('td', {class: 'n'}, row.heard || 0), el('td', {class: 'n'}, row.failed),
              el('td', {}, el('div', {class: 'bar', role: 'img', 'aria-label': percent(share(row))},
                el('span', {style: null, 'data-width': share(row)})), percent(share(row)))))));
        }

        // Where counties lie, from the registry (GET /console/places), kept for the page's life.
        const places = new Map();
        async function locate(codes) {
          const missing = codes.filter((code) => !places.has(code));
          for (let i = 0; i < missing.length; i += 400) {
            const part = missing.slice(i, i + 400);
            try {
              const found = await api('GET', `/console/places?codes=${part.join(',')}`);
              for (const place of found.places) places.set(place.code, place);
            } catch (_) { /* drawn without coordinates */ }
            for (const code of part) if (!places.has(code)) places.set(code, null);
          }
        }

        // Each county where the registry places it (a circle), its townships as squares in a
        // ring around it, all coloured from red (none reached) to green (all reached). Counties
        // the registry has no coordinates for are set in a row beneath.
        function picture(report) {
          const ns = 'http://www.w3.org/2000/svg';
          const node = (tag, attributes, text) => {
            const made = document.createElementNS(ns, tag);
            for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
            if (text !== undefined) made.textContent = text;
            return made;
          };
          const rows = report.tiers || [];
          const counties = rows.filter((row) => row.tier === 'county');
          const colour = (value) => `hsl(${Math.round(value * 120)}, 70%, ${value >= 1 ? 35 : 45}%)`;
          const width = 360, margin = 60, tile = 9;
          const placed = counties.filter((c) => { const p = places.get(c.region); return p && p.longitude != null; });
          const loose = counties.filter((c) => !placed.includes(c));
          // An equirectangular projection, squeezed by the cosine of the latitude.
          const lats = placed.map((c) => places.get(c.region).latitude);
          const squeeze = Math.cos((lats.reduce((a, b) => a + b, 0) / Math.max(1, lats.length)) * Math.PI / 180);
          const xs = placed.map((c) => places.get(c.region).longitude * squeeze);
          const ys = placed.map((c) => -places.get(c.region).latitude);
          const scale = placed.length > 1 ? Math.min((width - 2 * margin) / (Math.max(...xs) - Math.min(...xs) || 1),
            (width - 2 * margin) / (Math.max(...ys) - Math.min(...ys) || 1)) : 0;
          const mapHeight = placed.length ? (placed.length > 1 ? (Math.max(...ys) - Math.min(...ys)) * scale + 2 * margin : 2 * margin) : 0;
          const height = mapHeight + (loose.length ? 2 * margin : 0);
          const svg = node('svg', {viewBox: `0 0 ${width} ${Math.max(height, 40)}`, width, height: Math.max(height, 40), role: 'img',
            'aria-label': '各县、乡镇覆盖率图', id: 'coverage-map'});
          const draw = (county, x, y) => {
            const towns = rows.filter((row) => row.tier === 'township' && row.region.startsWith(county.region));
            const radius = Math.max(24, towns.length * (tile + 3) / (2 * Math.PI));
            towns.forEach((town, index) => {
              const angle = 2 * Math.PI * index / towns.length - Math.PI / 2;
              const square = node('rect', {x: (x + radius * Math.cos(angle) - tile / 2).toFixed(1), y: (y + radius * Math.sin(angle) - tile / 2).toFixed(1),
                width: tile, height: tile, fill: colour(share(town)), 'data-region': town.region});
              square.append(node('title', {}, `${town.name || town.region}：${town.delivered}/${town.targeted}`));
              svg.append(square);
            });
            const circle = node('circle', {cx: x.toFixed(1), cy: y.toFixed(1), r: 10, fill: colour(share(county)), 'data-region': county.region});
            circle.append(node('title', {}, `${county.name || county.region}：${county.delivered}/${county.targeted}`));
            svg.append(circle, node('text', {x: x.toFixed(1), y: (y + radius + tile + 10).toFixed(1), 'text-anchor': 'middle'},
              `${county.name || county.region} ${percent(share(county))}`));
          };
          placed.forEach((county, index) => {
            const x = placed.length > 1 ? margin + (xs[index] - Math.min(...xs)) * scale : width / 2;
            const y = placed.length > 1 ? margin + (ys[index] - Math.min(...ys)) * scale : margin;
            draw(county, x, y);
          });
          loose.forEach((county, index) => draw(county, margin + (index % 3) * 120, mapHeight + margin));
          return el('figure', {}, svg, el('figcaption', {class: 'meta'},
            '圆为县（按登记的经纬度），周围方块为其乡镇；绿色为全部送达，红色为未送达。'));
        }

        function blindSpots(report) {
          const spots = report.blindSpots || [];
          if (!spots.length) return el('p', {class: 'ok', id: 'blind-spots'}, '没有未送达的接收者。');
          return el('div', {id: 'blind-spots'}, el('h2', {}, `未送达 ${spots.length}`, en('Not reached')),
            el('ul', {}, spots.slice(0, 50).map((d) => el('li', {class: d.state === 'failed' ? 'late' : ''},
              `${d.recipientName || d.recipient}（${d.region}，${d.channel}）${d.state}${d.lastError ? '：' + d.lastError : ''}`))));
        }

        // ---- Compose ----
        async function composeView(view) {
          if (session.role !== 'issuer' || !session.department) {
            show(el('h1', {}, '发布预警'), message('error', '只有部门的发布员可以发布预警。'));
            return;
          }
          const department = session.department;
          const event = el('select', {id: 'event', name: 'event'}, department.events.map((e) => el('option', {value: e.code}, `${e.name}（${e.code}）`)));
          const level = el('select', {id: 'level', name: 'level'}, Object.keys(LEVELS).reverse().map((l) => el('option', {value: l}, `${LEVELS[l]} ${LEVEL_EN[l]}`)));
          level.value = 'yellow';
          const now = new Date();
          const effective = el('input', {id: 'effective', type: 'datetime-local', value: inputValue(now)});
          const expires = el('input', {id: 'expires', type: 'datetime-local', value: inputValue(new Date(now.getTime() + 6 * 3600 * 1000))});
          const chosen = new Map();
          const chips = el('div', {class: 'chips', id: 'areas', 'aria-live': 'polite'});
          const search = el('input', {id: 'area-search', type: 'search', placeholder: '名称或代码，如 长沙县 或 430121', autocomplete: 'off'});
          const matches = el('ul', {class: 'matches', id: 'area-matches', hidden: true});
          const drawChips = () => chips.replaceChildren(...[...chosen].map(([code, name]) => el('span', {class: 'chip', 'data-code': code}, `${name} ${code}`,
            el('button', {type: 'button', 'aria-label': `移除 ${name}`, onclick: () => { chosen.delete(code); drawChips(); }}, '×'))));
          let pending = 0;
          search.addEventListener('input', () => {
            clearTimeout(pending);
            pending = setTimeout(async () => {
              const text = search.value.trim();
              if (!text) { matches.hidden = true; return; }
              try {
                const found = await api('GET', `/console/regions?q=${encodeURIComponent(text)}`);
                matches.replaceChildren(...found.regions.map((r) => el('li', {}, el('button', {type: 'button', 'data-code': r.code, onclick: () => {
                  chosen.set(r.code, r.name); drawChips(); search.value = ''; matches.hidden = true; search.focus();
                  previews.replaceChildren();
                }}, `${r.name} ${r.code}`))));
                if (!found.regions.length) matches.replaceChildren(el('li', {class: 'meta'}, `没有在本部门辖区内找到“${text}”。`));
                else if (found.regions.length >= 30) matches.append(el('li', {class: 'meta'}, '只列出前 30 个，请输入更完整的名称或代码。'));
                matches.hidden = false;
              } catch (error) { matches.hidden = true; }
            }, 200);
          });
          const blocks = el('div', {id: 'languages'});
          function addLanguage(tag) {
            const n = blocks.children.length;
            const field = (name, label, tagName) => {
              const input = el(tagName || 'input', {id: `${name}-${n}`, name});
              return [el('label', {for: `${name}-${n}`}, label), input];
            };
            blocks.append(el('fieldset', {class: 'language', 'data-index': n},
              el('legend', {}, n === 0 ? '正文' : '其他语言'),
              field('language', '语言标签（如 zh-CN、en-US、ug-CN）'),
              field('headline', '标题'), field('description', '内容', 'textarea'), field('instruction', '防御指南', 'textarea')));
            blocks.lastChild.querySelector('[name=language]').value = tag;
          }
          addLanguage('zh-CN');
          const previews = el('div', {id: 'previews', 'aria-live': 'polite'});
          const status = el('div', {'aria-live': 'polite', id: 'compose-status'});

          // One identifier for this form: a second tap on submit is the same message, which
          // the intake answers as a duplicate instead of filing it twice.
          const identifier = `${department.id}-${Date.now()}`;
          function problem() {
            if (!chosen.size) return '请至少选择一个区域。';
            if (!effective.value || !expires.value) return '请填写生效时间和截止时间。';
            if (fromInput(expires.value) <= fromInput(effective.value)) return '截止时间须晚于生效时间。';
            for (const block of blocks.children) {
              if (!block.querySelector('[name=language]').value.trim()) return '每种语言都需要语言标签（如 en-US）。';
            }
            return null;
          }
          let sent = null;  // set at the first preview or submission, then kept with the identifier
          function alert() {
            sent = sent || new Date();
            const sender = department.senders[0] || `${department.id}@warncast`;
            const area = [...chosen].map(([code]) => code);
            const areaDesc = [...chosen].map(([, name]) => name).join('、');
            const chosenEvent = department.events.find((e) => e.code === event.value);
            const info = [...blocks.children].map((block, index) => {
              const value = (name) => block.querySelector(`[name=${name}]`).value.trim() || undefined;
              return {
                language: value('language'), category: [CATEGORY[department.kind] || 'Other'],
                // The node's language names the event; other blocks name it by its catalogue code.
                event: index === 0 && chosenEvent ? chosenEvent.name : event.value,
                urgency: level.value === 'red' ? 'Immediate' : 'Expected', severity: SEVERITY[level.value], certainty: 'Likely',
                effective: capTime(fromInput(effective.value)), expires: capTime(fromInput(expires.value)), senderName: department.name,
                headline: value('headline'), description: value('description'), instruction: value('instruction'),
                parameter: [{valueName: 'level', value: level.value}],
                area: [{areaDesc: areaDesc || '—', geocode: area.map((code) => ({valueName: 'GB/T 2260', value: code}))}],
              };
            });
            return {identifier, sender, sent: capTime(sent), status: 'Actual', msgType: 'Alert', scope: 'Public', info};
          }

          async function preview() {
            previews.replaceChildren();
            const wrong = problem();
            if (wrong) { previews.append(message('error', wrong)); return false; }
            try {
              const answer = await api('POST', '/v1/previews', alert());
              const p = answer.preview;
              previews.append(
                el('h2', {}, '预览', en('Preview')),
                el('h3', {}, '大喇叭播报'), el('p', {class: 'preview', id: 'preview-loudspeaker'}, p.loudspeaker),
                el('h3', {}, '短信'), el('p', {class: 'preview', id: 'preview-sms'}, p.sms, el('br'), el('span', {class: 'meta'}, `${[...p.sms].length} 字`)),
                el('h3', {}, '邮件'), el('p', {class: 'preview', id: 'preview-email'}, `主题：${p.emailSubject}\n\n${p.emailBody}`));
              return true;
            } catch (error) {
              previews.append(message('error', `${error.code ? error.code + '：' : ''}${error.message}`));
              return false;
            }
          }

          async function submit(event) {
            event.preventDefault();
            status.replaceChildren();
            const button = document.getElementById('submit');
            if (button.disabled) return;
            button.disabled = true;
            try {
              if (!(await preview())) { button.disabled = false; return; }
              const answer = await api('POST', '/v1/warnings', alert());
              status.append(message('ok', `${answer.duplicate ? '此前已提交' : '已提交'}，状态：${STATUS[answer.status] || answer.status}。`),
                el('p', {}, el('a', {href: `#/w/${answer.id}`, id: 'submitted'}, '查看这条预警')));
            } catch (error) {
              status.append(message('error', `${error.code ? error.code + '：' : ''}${error.message}`));
              button.disabled = false;
            }
          }

          show(el('form', {id: 'compose', onsubmit: submit},
            el('h1', {}, '发布预警', en('Compose a warning')),
            el('div', {class: 'row'},
              el('div', {}, el('label', {for: 'event'}, '预警类别', en('Event')), event),
              el('div', {}, el('label', {for: 'level'}, '级别', en('Level')), level)),
            el('label', {for: 'area-search'}, '区域', en('Area')), chips, search, matches,
            blocks,
            el('div', {class: 'actions'}, el('button', {type: 'button', class: 'secondary', id: 'add-language', onclick: () => addLanguage('')}, '添加语言', en('Add a language'))),
            el('div', {class: 'row'},
              el('div', {}, el('label', {for: 'effective'}, `生效时间（${session.timeZone}）`, en('Effective')), effective),
              el('div', {}, el('label', {for: 'expires'}, `截止时间（${session.timeZone}）`, en('Expires')), expires)),
            el('div', {class: 'actions'},
              el('button', {type: 'button', class: 'secondary', id: 'preview', onclick: preview}, '预览', en('Preview')),
              el('button', {type: 'submit', id: 'submit'}, '提交审批', en('Submit'))),
            status, previews));
        }

        // ---- The warning list, for auditors and everyone ----
        async function warningsView(view) {
          const query = new URLSearchParams(location.hash.split('?')[1] || '');
          const field = (name, label, input) => el('div', {}, el('label', {for: `f-${name}`}, label), input);
          const status = el('select', {id: 'f-status', name: 'status'}, el('option', {value: ''}, '全部'),
            Object.entries(STATUS).map(([value, text]) => el('option', {value}, text)));
          const level = el('select', {id: 'f-level', name: 'level'}, el('option', {value: ''}, '全部'),
            Object.entries(LEVELS).map(([value, text]) => el('option', {value}, text)));
          const region = el('input', {id: 'f-region', name: 'region', inputmode: 'numeric'});
          const department = el('input', {id: 'f-department', name: 'department'});
          const since = el('input', {id: 'f-since', type: 'datetime-local'});
          const until = el('input', {id: 'f-until', type: 'datetime-local'});
          const late = el('input', {id: 'f-late', type: 'checkbox'});
          if (query.get('since')) since.value = inputValue(new Date(query.get('since')));
          if (query.get('until')) until.value = inputValue(new Date(query.get('until')));
          late.checked = query.get('late') === 'true';
          status.value = query.get('status') || ''; level.value = query.get('level') || '';
          region.value = query.get('region') || ''; department.value = query.get('department') || '';
          const results = el('div', {id: 'results'});
          const auditing = ['auditor', 'operator'].includes(session.role);  // exports and verify are theirs
          const verify = el('div', {'aria-live': 'polite', id: 'verify-result'});
          const form = el('form', {onsubmit: (event) => {
            event.preventDefault();
            const next = new URLSearchParams();
            for (const input of [status, level, region, department]) if (input.value) next.set(input.name, input.value);
            if (since.value) next.set('since', capTime(fromInput(since.value)));
            if (until.value) next.set('until', capTime(fromInput(until.value)));
            if (late.checked) next.set('late', 'true');
            location.hash = '#/warnings?' + next.toString();
          }}, el('div', {class: 'row'}, field('status', '状态', status), field('level', '级别', level),
            field('region', '地区代码', region), field('department', '部门', department),
            field('since', '提交时间自', since), field('until', '提交时间至', until),
            el('div', {}, el('label', {for: 'f-late'}, late, ' 仅超时未批')) ),
          el('div', {class: 'actions'}, el('button', {type: 'submit'}, '筛选'),
            auditing ? el('a', {href: '/v1/export/audit?format=csv'}, '导出审计日志 (CSV)') : null,
            auditing ? el('a', {href: '/v1/export/deliveries?format=csv'}, '导出送达记录 (CSV)') : null,
            !auditing ? null : el('button', {type: 'button', class: 'secondary', id: 'verify', onclick: async () => {
              verify.replaceChildren();
              try {
                const answer = await api('GET', '/v1/audit/verify');
                const receipts = answer.receipts || {};
                const chain = answer.brokenAt !== undefined
                  ? `审计链在第 ${answer.brokenAt} 条断开：${answer.reason || ''}`
                  : `审计链完整：${answer.entries} 条${answer.lastHash ? '，末哈希 ' + answer.lastHash.slice(0, 16) + '…' : ''}`;
                const seals = receipts.intact === false
                  ? `送达回执封存链有误：${receipts.reason || ''}`
                  : `送达回执封存完整${receipts.deliveries !== undefined ? '：' + receipts.deliveries + ' 条' : ''}`;
                verify.append(message(answer.intact ? 'ok' : 'error', `${chain}；${seals}`));
              } catch (error) { verify.append(message('error', error.message)); }
            }}, '校验审计链')), verify);
          const data = await api('GET', '/v1/warnings?' + query.toString());
          if (!live(view)) return;
          show(el('h1', {}, '预警列表', en('Warnings')), form, results);
          const warnings = data.warnings || data;
          if (!warnings.length) { results.append(el('p', {}, '没有符合条件的预警。')); return; }
          results.append(el('table', {},
            el('thead', {}, el('tr', {}, ['级别', '标题', '状态', '部门', '提交'].map((h) => el('th', {scope: 'col'}, h)))),
            el('tbody', {}, warnings.map((w) => el('tr', {},
              el('td', {}, levelBadge(w.level)), el('td', {}, el('a', {href: `#/w/${w.id}`}, w.headline || w.event)),
              el('td', {}, STATUS[w.status] || w.status), el('td', {}, w.department), el('td', {}, time(w.receivedAt)))))));
        }

        async function route() {
          leave();
          if (!session) {
            try { session = await api('GET', '/console/session'); started(); }
            catch (error) { signInView(); return; }
          }
          const hash = location.hash || '#/';
          const view = ++currentView;
          try {
            if (hash.startsWith('#/w/')) await warningView(view, decodeURIComponent(hash.slice(4)));
            else if (hash === '#/compose') await composeView(view);
            else if (hash.startsWith('#/warnings')) await warningsView(view);
            else await approvalsView(view);
          } catch (error) {
            if (!live(view)) return;
            if (error.status === 401) { session = null; signInView('登录已过期，请重新登录。'); return; }
            show(message('error', error.message));
          }
        }

        window.addEventListener('hashchange', route);
        document.addEventListener('DOMContentLoaded', route);
        // Bars are sized here: the style policy allows no inline style attributes.
        new MutationObserver(() => {
          for (const bar of document.querySelectorAll('.bar span[data-width]')) {
            bar.style.width = `${Math.min(100, Number(bar.dataset.width) * 100)}%`;
            bar.removeAttribute('data-width');
          }
        }).observe(document.documentElement, {childList: true, subtree: true});
        """#
}
