import SIOWire
import Testing

@Suite("Form decoding of query strings and form bodies")
struct FormDecodingTests {
    @Test(
        "+ is a space, %XX a byte, malformed escapes stay as written",
        arguments: [
            ("a+b", "a b"),
            ("p%40ss%3D1", "p@ss=1"),
            ("%E2%82%AC", "\u{20AC}"),
            ("100%", "100%"),
            ("%4", "%4"),
            ("%zz", "%zz"),
            // A sign is not a hex digit (`UInt8("+1", radix: 16)` would take it for one).
            ("%+1x", "% 1x"),
            ("plain", "plain"),
        ]
    )
    func decodes(_ input: String, _ expected: String) {
        #expect(FormDecoding.percentDecoded(input) == expected)
    }
}
