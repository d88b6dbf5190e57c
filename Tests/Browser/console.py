"""The console in Chromium, as the people of a release centre use it.

Run by ConsoleBrowserTests (Swift) against a running warncastd:

    /usr/bin/python3 Tests/Browser/console.py BASE_URL ARTEFACTS_DIR

A duty officer signs in on a desktop-sized window, composes a red rainstorm warning for two
townships, previews it and submits it; two leaders, each on a 390x844 phone screen, sign
in and approve it; the second watches coverage reach 100% of the county. A screenshot of
every page is saved in ARTEFACTS_DIR. Prints `warning <id>` and exits 0, or exits 1 with
what went wrong.
"""

import json
import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, ARTEFACTS = sys.argv[1], sys.argv[2]
PASSWORDS = json.loads(os.environ["CONSOLE_PASSWORDS"])
os.makedirs(ARTEFACTS, exist_ok=True)


def browser(phone):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(argument)
    options.add_argument("--window-size=390,844" if phone else "--window-size=1280,1000")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    if phone:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
        )
    driver.set_page_load_timeout(30)
    return driver


def wait(driver, condition, what, seconds=20):
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]).until(condition)
    except Exception:
        shot(driver, "failed-" + what.replace(" ", "-"))
        body = driver.find_element(By.TAG_NAME, "body").text
        raise SystemExit(f"timed out waiting for {what}; the page says:\n{body[:2000]}")


def shot(driver, name):
    driver.save_screenshot(os.path.join(ARTEFACTS, name + ".png"))


def text_in(selector, text):
    return EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text)


def sign_in(driver, username):
    driver.get(BASE + "/console")
    wait(driver, EC.element_to_be_clickable((By.ID, "username")), "the sign-in form")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[username])
    driver.find_element(By.ID, "sign-in-button").click()
    wait(driver, EC.visibility_of_element_located((By.ID, "sign-out")), f"{username} signed in")


def check_page_policy(driver):
    # Nothing the console loads breaks its Content-Security-Policy, and nothing comes from elsewhere.
    for entry in driver.get_log("browser"):
        text = entry.get("message", "")
        if "Content Security Policy" in text or "Refused to" in text or "Uncaught" in text:
            raise SystemExit(f"the browser reported: {entry}")
    text = driver.find_element(By.TAG_NAME, "body").text
    for wrong in ("[object", "undefined", "null"):
        if wrong in text:
            raise SystemExit(f"the page shows '{wrong}':\n{text[:3000]}")
    for url in driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"):
        if not url.startswith(BASE):
            raise SystemExit(f"the console loaded {url}, not from warncastd")


def compose():
    driver = browser(phone=False)
    try:
        # A wrong password is refused with a clear message.
        driver.get(BASE + "/console")
        wait(driver, EC.element_to_be_clickable((By.ID, "username")), "the sign-in form")
        driver.find_element(By.ID, "username").send_keys("zhang3")
        driver.find_element(By.ID, "password").send_keys("not the password")
        driver.find_element(By.ID, "sign-in-button").click()
        wait(driver, text_in("#sign-in", "用户名或密码错误"), "the wrong password refused")
        shot(driver, "1-sign-in-refused")
        driver.refresh()
        sign_in(driver, "zhang3")
        driver.get(BASE + "/console#/compose")
        wait(driver, EC.element_to_be_clickable((By.ID, "event")), "the compose form")
        Select(driver.find_element(By.ID, "event")).select_by_value("rainstorm")
        Select(driver.find_element(By.ID, "level")).select_by_value("red")
        for name, code in (("长沙县第1乡镇", "430121001"), ("430121002", "430121002")):
            search = driver.find_element(By.ID, "area-search")
            search.clear()
            search.send_keys(name)
            wait(driver, EC.element_to_be_clickable((By.CSS_SELECTOR, f"#area-matches button[data-code='{code}']")), f"{code} found").click()
            wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, f"#areas .chip[data-code='{code}']")), f"{code} chosen")
        driver.find_element(By.ID, "headline-0").send_keys("长沙县气象局发布暴雨红色预警信号")
        driver.find_element(By.ID, "description-0").send_keys("预计未来3小时内长沙县北部将出现100毫米以上降雨。")
        driver.find_element(By.ID, "instruction-0").send_keys("停止集会、停课、停业；转移危险地带人员。")
        driver.find_element(By.ID, "add-language").click()
        driver.find_element(By.ID, "language-1").send_keys("en-US")
        driver.find_element(By.ID, "headline-1").send_keys("Red rainstorm warning for Changsha County")
        driver.find_element(By.ID, "instruction-1").send_keys("Stop gatherings, classes and business; move people out of danger.")
        driver.find_element(By.ID, "preview").click()
        wait(driver, text_in("#preview-sms", "【长沙县气象局】长沙县气象局发布暴雨红色预警信号。停止集会"), "the SMS preview")
        wait(driver, text_in("#preview-loudspeaker", "长沙县气象局发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。"), "the loudspeaker preview")
        wait(driver, text_in("#preview-email", "主题：【红色预警】长沙县气象局发布暴雨红色预警信号"), "the email preview")
        shot(driver, "2-compose-preview")
        driver.find_element(By.ID, "submit").click()
        link = wait(driver, EC.presence_of_element_located((By.ID, "submitted")), "the submission accepted")
        wait(driver, text_in("#compose-status", "待审批"), "pending approval")
        warning = link.get_attribute("href").rsplit("/", 1)[1]
        shot(driver, "3-compose-submitted")
        check_page_policy(driver)
        driver.find_element(By.ID, "sign-out").click()
        wait(driver, EC.element_to_be_clickable((By.ID, "username")), "signed out")
        return warning
    finally:
        driver.quit()


def approve(username, warning, screenshot, last):
    driver = browser(phone=True)
    try:
        sign_in(driver, username)
        card = wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, f"#pending [data-id='{warning}']")), "the warning in the queue")
        if "红色预警" not in card.text or "剩余" not in card.text:
            raise SystemExit(f"the queue card lacks the level or the countdown: {card.text}")
        shot(driver, screenshot + "-queue")
        card.find_element(By.TAG_NAME, "a").click()
        wait(driver, EC.element_to_be_clickable((By.ID, "approve")), "the approve button")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        if width > 390:
            raise SystemExit(f"the approval page is {width} px wide on a 390 px screen")
        shot(driver, screenshot + "-warning")
        driver.find_element(By.ID, "approve").click()
        expected = "已发布" if last else "待审批"
        wait(driver, text_in("#decision-status", "已批准"), f"{username}'s approval recorded")
        wait(driver, text_in("#status", expected), f"status {expected}")
        if not last:
            # Decided: no second approval offered.
            wait(driver, EC.presence_of_element_located((By.ID, "already")), "the leader's own decision noted")
            if driver.find_elements(By.ID, "approve"):
                raise SystemExit("the approve button is offered again to a leader who approved")
        if last:
            # The county fills in, live.
            wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#tiers tr[data-region='430121'][data-share='1.0000']")),
                 "coverage of the county at 100%", seconds=60)
            wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#coverage-map circle[data-region='430121']")), "the county in the picture")
            wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#coverage-map rect[data-region='430121002']")), "its townships in the picture")
            wait(driver, text_in("#blind-spots", "没有未送达"), "no blind spots")
            driver.execute_script("document.getElementById('coverage').scrollIntoView()")
            shot(driver, screenshot + "-coverage")
        check_page_policy(driver)
    finally:
        driver.quit()


def audit(warning):
    driver = browser(phone=False)
    try:
        sign_in(driver, "zhao6")
        driver.get(BASE + "/console#/warnings?level=red&late=false")
        wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, f"#results a[href='#/w/{warning}']")), "the warning listed")
        driver.find_element(By.ID, "verify").click()
        wait(driver, text_in("#verify-result", "审计链完整"), "the audit chain verified")
        shot(driver, "6-audit")
        driver.find_element(By.CSS_SELECTOR, f"#results a[href='#/w/{warning}']").click()
        wait(driver, text_in("#status", "已发布"), "the warning opened")
        wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#tiers tr[data-region='430121'][data-share='1.0000']")), "coverage for the auditor")
        wait(driver, text_in("#timeline", "村覆盖 20/20"), "the timeline: every village reached")
        wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "#history tr[data-action='warning.released']")), "the history")
        decisions = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#history tr[data-action='approval.recorded']")]
        if len(decisions) != 2 or not all("审批意见" in row and "批准" in row for row in decisions):
            raise SystemExit(f"the history's two approvals read: {decisions}")
        for who in ("值班员 张三（发布员）", "带班领导 李四（审批人）", "副县长 王五（审批人）"):
            if who not in driver.find_element(By.ID, "history").text:
                raise SystemExit(f"the history does not name {who}")
        shot(driver, "6-audit-warning")
        check_page_policy(driver)
    finally:
        driver.quit()
    driver = browser(phone=True)
    try:
        driver.get(BASE + "/public")
        wait(driver, EC.presence_of_element_located((By.CSS_SELECTOR, f"#w-{warning}")), "the warning on the public page")
        shot(driver, "7-public-phone")
    finally:
        driver.quit()


warning = compose()
approve("li4", warning, "4-duty-leader", last=False)
approve("wang5", warning, "5-government-leader", last=True)
audit(warning)
print("warning", warning)
