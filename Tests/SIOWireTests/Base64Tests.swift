import NIOCore
import SIOWire
import Testing

struct Base64Tests {
    /// `isValid` is what `inspect` asks of attachments instead of decoding them: it must accept
    /// exactly what `decode` accepts, or a line would be shown differently from its decoded record.
    @Test(arguments: [
        "", "AA", "AAA", "AAAA", "AAE=", "AA==", "AQID", "AAECAwQFBgcICQ", "+/+/", "aGVsbG8gd29ybGQ=",
        "A", "AAAAA", "AA=", "A===", "AAA==", "=", "==", "AA*A", "AA A", "AA\nA", "AAAA====", "AA=A",
        "é", "AAAA\u{0}",
    ])
    func isValidAgreesWithDecode(_ text: String) {
        let bytes = Array(text.utf8)
        let decoded = bytes.withUnsafeBytes { (try? Base64.decode($0)) != nil }
        let valid = bytes.withUnsafeBytes { Base64.isValid($0) }
        #expect(valid == decoded, "\(text.debugDescription): isValid \(valid), decode \(decoded ? "accepts" : "rejects")")
    }

    @Test func everyByteValueRoundTrips() throws {
        let original = ByteBuffer(bytes: Array(0...255))
        var text = ByteBuffer()
        Base64.encode(original, into: &text)
        let valid = text.withUnsafeReadableBytes { Base64.isValid($0) }
        #expect(valid)
        let decoded = try text.withUnsafeReadableBytes { try Base64.decode($0) }
        #expect(decoded == original)
    }
}
