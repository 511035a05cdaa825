/// The head of one HTTP/1.x request as `RequestHeadScanner` read it from raw bytes: enough to
/// know where the request ends and whether `InferenceFastPath` may answer it itself.
struct ScannedRequestHead: Equatable {
    /// Whether the method is `POST`.
    var isPost: Bool
    /// Offsets of the request target within the scanned bytes.
    var target: Range<Int>
    /// `HTTP/1.1` (true) or `HTTP/1.0` (false).
    var isHTTP11: Bool
    /// Bytes from the start of the request line to the end of the blank line after the fields.
    var headLength: Int
    /// The declared `Content-Length`; 0 when the request declares none (it has no body).
    var contentLength: Int
    /// Whether a `Content-Length` field was sent.
    var declaresLength: Bool
    /// `Connection: close`.
    var closeRequested: Bool
    /// An `Expect` field (such as `100-continue`): the client may wait before sending its body.
    var expects: Bool
    /// An `Inference-Header-Content-Length` field (the V2 binary tensor extension): the router
    /// reads such requests.
    var sendsInferenceHeaderLength = false

    /// The whole request's length: head and body.
    var length: Int { headLength + contentLength }
}

/// Reads request heads from raw bytes, strictly: a request whose framing could be read in
/// more than one way is left to SwiftNIO's HTTP decoder, with everything after it.
///
/// `InferenceFastPath` decides from these heads where each request ends, so the reading must
/// never disagree with SwiftNIO's (llhttp's): a disagreement about where a request ends lets a
/// client smuggle a request past the one that checks it. So only the plainest spelling is
/// accepted: `METHOD SP target SP HTTP/1.1|HTTP/1.0 CRLF`, then fields `name: value CRLF` with a
/// token name, no space before the colon, no control characters in the value, no folded lines,
/// then `CRLF`; the method one of GET, HEAD, POST, PUT, DELETE, OPTIONS and PATCH (not CONNECT,
/// which makes the rest of the connection a tunnel); at most one `Content-Length` (digits only,
/// below 10¹⁸), no `Transfer-Encoding` and no `Upgrade`. Anything else is `unframable`.
enum RequestHeadScanner {
    /// What the bytes at the start of a buffer hold.
    enum Result: Equatable {
        /// A complete head.
        case head(ScannedRequestHead)
        /// The head has not ended yet (`searchedUpTo`: how far the search for its end got, to
        /// resume there when more bytes arrive).
        case incomplete(searchedUpTo: Int)
        /// A head this scanner does not frame, with the reason (for tests and debugging).
        case unframable(String)
    }

    /// The longest head scanned; a longer one is left to the HTTP decoder (which allows 80 KiB).
    static let maxHeadLength = 16 * 1024

    /// Scans the head at the start of `bytes`. `resumeAt` is a previous result's `searchedUpTo`.
    static func scan(_ bytes: UnsafeRawBufferPointer, resumeAt: Int = 0) -> Result {
        guard let headLength = endOfHead(bytes, from: resumeAt) else {
            if bytes.count > maxHeadLength { return .unframable("the head is longer than \(maxHeadLength) bytes") }
            return .incomplete(searchedUpTo: max(0, bytes.count - 3))
        }
        if headLength > maxHeadLength { return .unframable("the head is longer than \(maxHeadLength) bytes") }
        var reader = LineReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<headLength]))
        return reader.readHead(headLength: headLength)
    }

    /// The offset just past the first `CRLF CRLF`, searching from `start`.
    private static func endOfHead(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = max(start, 3)
        while index < bytes.count {
            if bytes[index] == lf, bytes[index - 1] == cr, bytes[index - 2] == lf, bytes[index - 3] == cr { return index + 1 }
            index += 1
        }
        return nil
    }

    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Token characters (RFC 9110 §5.6.2): field names and methods.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// Reads the lines of one complete head (which ends with `CRLF CRLF`).
    private struct LineReader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        static let framedMethods: [StaticString] = ["POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]

        mutating func readHead(headLength: Int) -> Result {
            // Request line.
            let methodStart = index
            while index < bytes.count, isTokenCharacter(bytes[index]) { index += 1 }
            let method = UnsafeRawBufferPointer(rebasing: bytes[methodStart..<index])
            guard !method.isEmpty, skip(space) else { return .unframable("the request line does not start with a method and a space") }
            // CONNECT turns the connection into a tunnel, and the decoder rejects methods it does
            // not know: only the usual ones are framed here.
            guard Self.framedMethods.contains(where: { equals(method, $0) }) else { return .unframable("the method is left to the HTTP decoder") }
            let targetStart = index
            while index < bytes.count, bytes[index] > space, bytes[index] < 0x7F { index += 1 }
            let target = targetStart..<index
            guard !target.isEmpty, skip(space) else { return .unframable("the request target is not followed by a single space") }
            let isHTTP11: Bool
            if skip("HTTP/1.1\r\n") {
                isHTTP11 = true
            } else if skip("HTTP/1.0\r\n") {
                isHTTP11 = false
            } else {
                return .unframable("the request line does not end with HTTP/1.1 or HTTP/1.0")
            }
            var head = ScannedRequestHead(
                isPost: equals(method, "POST"), target: target, isHTTP11: isHTTP11, headLength: headLength, contentLength: 0,
                declaresLength: false, closeRequested: false, expects: false)
            // Fields, up to the blank line.
            while !skip("\r\n") {
                let nameStart = index
                while index < bytes.count, isTokenCharacter(bytes[index]) { index += 1 }
                let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<index])
                guard !name.isEmpty, skip(UInt8(ascii: ":")) else { return .unframable("a field line is not `name: value`") }
                while index < bytes.count, bytes[index] == space || bytes[index] == tab { index += 1 }
                let valueStart = index
                while index < bytes.count, bytes[index] == tab || bytes[index] >= space, bytes[index] != 0x7F { index += 1 }
                var valueEnd = index
                guard skip("\r\n") else { return .unframable("a field value holds a control character") }
                while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
                let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
                if let problem = apply(name: name, value: value, to: &head) { return .unframable(problem) }
            }
            return .head(head)
        }

        /// Records the fields that frame the request or decide how it is answered.
        private func apply(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, to head: inout ScannedRequestHead) -> String? {
            if equalsIgnoringCase(name, "content-length") {
                guard !head.declaresLength else { return "more than one Content-Length" }
                guard let length = decimal(value) else { return "Content-Length is not a decimal number below 10^18" }
                head.contentLength = length
                head.declaresLength = true
            } else if equalsIgnoringCase(name, "transfer-encoding") {
                return "Transfer-Encoding is left to the HTTP decoder"
            } else if equalsIgnoringCase(name, "upgrade") {
                return "Upgrade is left to the HTTP decoder"
            } else if equalsIgnoringCase(name, "connection") {
                for option in value.split(separator: UInt8(ascii: ",")) {
                    let token = trimmed(UnsafeRawBufferPointer(rebasing: option))
                    if equalsIgnoringCase(token, "close") { head.closeRequested = true }
                    if equalsIgnoringCase(token, "upgrade") { return "Connection: upgrade is left to the HTTP decoder" }
                }
            } else if equalsIgnoringCase(name, "expect") {
                head.expects = true
            } else if equalsIgnoringCase(name, "inference-header-content-length") {
                head.sendsInferenceHeaderLength = true
            }
            return nil
        }

        private mutating func skip(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skip(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return false }
            index += count
            return true
        }

        private func decimal(_ value: UnsafeRawBufferPointer) -> Int? {
            guard !value.isEmpty, value.count <= 18 else { return nil }
            var number = 0
            for byte in value {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                number = number * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return number
        }

        private func trimmed(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            var start = 0
            var end = value.count
            while start < end, value[start] == space || value[start] == tab { start += 1 }
            while end > start, value[end - 1] == space || value[end - 1] == tab { end -= 1 }
            return UnsafeRawBufferPointer(rebasing: value[start..<end])
        }

        private func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
            bytes.elementsEqual(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        /// ASCII case-insensitive comparison with a lowercase `text`.
        private func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
            guard bytes.count == text.utf8CodeUnitCount else { return false }
            for offset in 0..<bytes.count {
                var byte = bytes[offset]
                if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { byte += 32 }
                if byte != text.utf8Start[offset] { return false }
            }
            return true
        }
    }
}
