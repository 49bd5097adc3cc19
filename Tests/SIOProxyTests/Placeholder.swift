import Testing

@Test func SIOProxyTestsBuilds() {}
