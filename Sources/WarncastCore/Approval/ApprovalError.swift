/// Why an approval or rejection was refused. `code` is the API's `error` field.
public enum ApprovalError: Error, Sendable, Equatable {
    case notAnApprover
    /// 双人双岗: whoever submitted a warning never approves it.
    case selfApproval
    case outOfScope(String)
    case alreadyDecided
    case nothingMissingForApprover
    case notPending(WarningStatus)
    case expired
    case reasonRequired

    public var code: String {
        switch self {
        case .notAnApprover: "not_an_approver"
        case .selfApproval: "self_approval"
        case .outOfScope: "approver_out_of_scope"
        case .alreadyDecided: "already_approved"
        case .nothingMissingForApprover: "requirement_already_met"
        case .notPending: "not_pending"
        case .expired: "warning_expired"
        case .reasonRequired: "reason_required"
        }
    }

    public var detail: String {
        switch self {
        case .notAnApprover: "only an approver token with an approval role may approve or reject"
        case .selfApproval: "the submitter of a warning may not approve or reject it (two-person rule)"
        case .outOfScope(let reason): reason
        case .alreadyDecided:
            "this approver has already decided on this warning (with this or another token or console session in the same name); an approver counts once"
        case .nothingMissingForApprover: "every requirement this approver could meet is already met"
        case .notPending(let status): "the warning is \(status.rawValue), not awaiting a decision"
        case .expired: "the warning has expired and can no longer be approved"
        case .reasonRequired: "a rejection needs a reason"
        }
    }
}
