/// Durations written the way the API writes them (`90s`, `10m`, `1h30m`).
enum Durations {
    static func describe(seconds: Double) -> String {
        var remaining = Int(seconds.rounded())
        if remaining <= 0 { return "0s" }
        var text = ""
        if remaining >= 3600 { text += "\(remaining / 3600)h"; remaining %= 3600 }
        if remaining >= 60 { text += "\(remaining / 60)m"; remaining %= 60 }
        if remaining > 0 { text += "\(remaining)s" }
        return text
    }
}
