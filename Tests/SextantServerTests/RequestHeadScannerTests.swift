import Testing

@testable import SextantServer

/// `RequestHeadScanner`: where a request ends, read strictly; anything unusual is left to NIO's
/// HTTP decoder.
@Suite("Request head scanner")
struct RequestHeadScannerTests {
    static func scan(_ text: String, resumeAt: Int = 0) -> RequestHeadScanner.Result {
        Array(text.utf8).withUnsafeBytes { RequestHeadScanner.scan($0, resumeAt: resumeAt) }
    }

    static func head(_ text: String) throws -> ScannedRequestHead {
        guard case .head(let head) = scan(text) else { throw ScanFailure(result: scan(text)) }
        return head
    }

    struct ScanFailure: Error { var result: RequestHeadScanner.Result }

    @Test("a plain POST: target, length, body offset")
    func plainPost() throws {
        let text = "POST /v2/models/m/infer HTTP/1.1\r\nHost: x\r\ncontent-LENGTH:  12 \r\nContent-Type: application/json\r\n\r\n{\"inputs\":1}"
        let head = try Self.head(text)
        #expect(head.isPost && head.isHTTP11 && head.declaresLength)
        #expect(head.contentLength == 12)
        #expect(head.length == text.utf8.count)
        #expect(Array(text.utf8)[head.target].elementsEqual("/v2/models/m/infer".utf8))
        #expect(!head.closeRequested && !head.expects && !head.sendsInferenceHeaderLength)
    }

    @Test("fields that change how a request is answered")
    func answeringFields() throws {
        let head = try Self.head(
            "POST /x HTTP/1.0\r\nConnection: keep-alive, Close\r\nExpect: 100-continue\r\nInference-Header-Content-Length: 40\r\nContent-Length: 50\r\n\r\n")
        #expect(!head.isHTTP11 && head.closeRequested && head.expects && head.sendsInferenceHeaderLength)
        let get = try Self.head("GET /v2/health/ready HTTP/1.1\r\n\r\n")
        #expect(!get.isPost && !get.declaresLength && get.contentLength == 0 && get.length == 33)
    }

    @Test("an unfinished head says how far the search got, and resuming from there finds the end")
    func incomplete() throws {
        let text = "POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"
        let cut = 30
        let start = Array(text.utf8)[..<cut].withUnsafeBytes { RequestHeadScanner.scan($0) }
        guard case .incomplete(let searched) = start else {
            Issue.record("expected incomplete")
            return
        }
        #expect(searched == cut - 3)
        guard case .head(let head) = Self.scan(text, resumeAt: searched) else {
            Issue.record("expected a head")
            return
        }
        #expect(head.length == text.utf8.count)
        #expect(Self.scan("") == .incomplete(searchedUpTo: 0))
    }

    @Test(
        "ambiguous or unusual framing is left to the HTTP decoder",
        arguments: [
            "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 5\r\ntransfer-encoding: identity\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: \r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 1000000000000000000\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length : 5\r\n\r\n",
            "POST /x HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            "POST /x HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\n",
            "POST /x HTTP/1.1\r\nX: a\rb\r\n\r\n",
            "POST /x HTTP/1.1\r\nX: a\u{0}b\r\n\r\n",
            "POST /x HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
            "POST /x HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
            "POST /x HTTP/2.0\r\n\r\n",
            "POST /x  HTTP/1.1\r\n\r\n",
            "POST  /x HTTP/1.1\r\n\r\n",
            "POST /x\tHTTP/1.1\r\n\r\n",
            "\r\nPOST /x HTTP/1.1\r\n\r\n",
            "POST /x HTTP/1.1\n\r\n\r\n",
            "P(ST /x HTTP/1.1\r\n\r\n",
            "POST /x HTTP/1.1\r\n: empty\r\n\r\n",
            "CONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n",
            "BREW /pot HTTP/1.1\r\n\r\n",
            "post /x HTTP/1.1\r\n\r\n",
        ])
    func unframable(_ text: String) {
        guard case .unframable = Self.scan(text) else {
            Issue.record("\(text.debugDescription) was framed: \(Self.scan(text))")
            return
        }
    }

    @Test("a head longer than the limit is left to the decoder, complete or not")
    func tooLong() {
        let long = "POST /x HTTP/1.1\r\nX: " + String(repeating: "a", count: RequestHeadScanner.maxHeadLength)
        guard case .unframable = Self.scan(long) else {
            Issue.record("an unfinished long head was not left to the decoder")
            return
        }
        guard case .unframable = Self.scan(long + "\r\n\r\n") else {
            Issue.record("a complete long head was not left to the decoder")
            return
        }
    }
}
