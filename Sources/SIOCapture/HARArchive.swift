#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The part of a HAR 1.2 file (<http://www.softwareishard.com/blog/har-12-spec/>) that `import har`
/// reads, as Chrome, Firefox and Playwright write it, with Chrome's `_webSocketMessages` extension
/// (Playwright writes it too). Fields the import does not need are not decoded, so a HAR that leaves
/// them out is accepted; the ones it needs are required and named when missing.
public struct HARArchive: Decodable, Sendable {
    public var log: Log

    public struct Log: Decodable, Sendable {
        public var entries: [Entry]
        public var creator: Creator?
    }

    public struct Creator: Decodable, Sendable {
        public var name: String?
        public var version: String?
    }

    public struct Entry: Decodable, Sendable {
        /// ISO 8601, with a zone (`Z` or an offset such as Firefox's `+01:00`).
        public var startedDateTime: String
        /// Total milliseconds of the exchange (-1 or absent: unknown).
        public var time: Double?
        public var request: Request
        public var response: Response
        public var timings: Timings?
        /// Chrome's extension for WebSocket entries (Playwright writes it too).
        public var webSocketMessages: [WebSocketMessage]?
        /// Chrome's `_fromCache` (`memory`, `disk`): the response came from the browser's cache.
        public var fromCache: String?

        enum CodingKeys: String, CodingKey {
            case startedDateTime, time, request, response, timings
            case webSocketMessages = "_webSocketMessages"
            case fromCache = "_fromCache"
        }

        /// Whether the browser answered the request from its cache, so that no server (and no
        /// proxy) saw it: Chrome's `_fromCache`, or Playwright's `_transferSize` of 0 on a response.
        public var isFromCache: Bool {
            self.fromCache != nil || (self.response.status > 0 && self.response.status != 101 && self.response.transferSize == 0)
        }
    }

    public struct Header: Decodable, Sendable {
        public var name: String
        public var value: String
    }

    public struct Request: Decodable, Sendable {
        public var method: String
        public var url: String
        public var headers: [Header]?
        public var postData: PostData?
    }

    public struct PostData: Decodable, Sendable {
        public var mimeType: String?
        public var text: String?
        /// Not in HAR 1.2, but some writers mark a base64 request body so.
        public var encoding: String?
    }

    public struct Response: Decodable, Sendable {
        /// 0 or -1 when no response came (Chrome, Playwright).
        public var status: Int
        public var headers: [Header]?
        public var content: Content?
        /// Chrome's and Playwright's bytes received over the network (0: from the cache; -1: unknown).
        public var transferSize: Int?

        enum CodingKeys: String, CodingKey {
            case status, headers, content
            case transferSize = "_transferSize"
        }
    }

    public struct Content: Decodable, Sendable {
        public var mimeType: String?
        /// The body as the browser decoded it (no `Content-Encoding`); absent when not kept.
        public var text: String?
        /// `base64` when `text` is base64.
        public var encoding: String?
    }

    public struct Timings: Decodable, Sendable {
        public var blocked: Double?
        public var dns: Double?
        public var connect: Double?
        public var send: Double?
        public var wait: Double?
        public var receive: Double?
    }

    public struct WebSocketMessage: Decodable, Sendable {
        /// `send` (client → server) or `receive`.
        public var type: String
        /// When: Chrome writes seconds since the Unix epoch, Playwright milliseconds (-1: unknown).
        public var time: Double
        /// 1 text, 2 binary (`data` is base64), 8 close, 9 ping, 10 pong.
        public var opcode: Int
        public var data: String
    }

    /// Decodes a HAR file's bytes. A file that is not JSON, not a HAR, or lacks a field the import
    /// needs gives an error naming what is wrong and where (`log.entries[3].request: no "url"`).
    public static func decode(_ bytes: [UInt8]) throws(HARImportError) -> HARArchive {
        try Self.decode(Data(bytes))
    }

    /// Decodes a HAR file's contents (memory-mapped, for one: `Data(contentsOf:options: .alwaysMapped)`).
    public static func decode(_ data: Data) throws(HARImportError) -> HARArchive {
        guard data.contains(where: { !Self.isJSONWhitespace($0) }) else {
            throw HARImportError("the file is empty")
        }
        do {
            return try JSONDecoder().decode(HARArchive.self, from: data)
        } catch let error as DecodingError {
            throw HARImportError(error)
        } catch {
            throw HARImportError("not JSON: \(error)")
        }
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// Why a HAR cannot be imported: one sentence naming the field (a JSON path such as
/// `log.entries[3].response.content.text`) and what is wrong with it.
public struct HARImportError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            let path = Self.path(context.codingPath)
            self.init("not a HAR: \(path.isEmpty ? "the top level" : path) has no \"\(key.stringValue)\"")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let path = Self.path(context.codingPath)
            self.init("not a HAR: \(path.isEmpty ? "the top level" : path) is not \(Self.expected(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                // JSONDecoder's syntax errors: "The given data was not valid JSON." + the underlying reason.
                let reason = context.underlyingError.map { "\($0)" } ?? context.debugDescription
                self.init("not JSON (the file is cut short or is not a HAR): \(Self.shorten(reason))")
            } else {
                self.init("not a HAR: \(Self.path(context.codingPath)): \(context.debugDescription)")
            }
        @unknown default:
            self.init("not a HAR: \(error)")
        }
    }

    /// `log.entries[3].request` from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }

    private static func expected(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            return "an object"
        }
    }

    private static func shorten(_ text: String) -> String {
        text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
