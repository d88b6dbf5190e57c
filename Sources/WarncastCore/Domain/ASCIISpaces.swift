extension StringProtocol {
    /// Without leading and trailing spaces and tabs: what HTTP allows around a header
    /// field's value. Foundation's `trimmingCharacters(in:)` goes through NSString and
    /// UTF-16 on Linux, which showed in the profile of every dial-in push and every
    /// request with a bearer token.
    public var trimmingASCIISpaces: SubSequence {
        var start = startIndex
        var end = endIndex
        while start < end, self[start] == " " || self[start] == "\t" { start = index(after: start) }
        while end > start {
            let before = index(before: end)
            guard self[before] == " " || self[before] == "\t" else { break }
            end = before
        }
        return self[start..<end]
    }
}
