import Testing

@testable import SIOReplay

@Suite struct ReplayScriptTests {}
