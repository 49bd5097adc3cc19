/// Query strings and `application/x-www-form-urlencoded` bodies, decoded as servers decode them.
public enum FormDecoding {
    /// Form-style decoding as servers do it: `+` is a space, `%XX` a byte; malformed escapes stay as they are.
    public static func percentDecoded<S: StringProtocol>(_ text: S) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(text)
        }
        return Array(text.utf8).withUnsafeBufferPointer { Self.decodeEscapes($0) }
    }

    /// `percentDecoded` of text given as its UTF-8 bytes.
    static func percentDecoded(_ utf8: UnsafeBufferPointer<UInt8>) -> String {
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(decoding: utf8, as: UTF8.self)
        }
        return Self.decodeEscapes(utf8)
    }

    private static func decodeEscapes(_ utf8: UnsafeBufferPointer<UInt8>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
                let high = hexDigit(utf8[index + 1]), let low = hexDigit(utf8[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 3
                continue
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
