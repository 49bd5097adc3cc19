import Testing

@Test func SIOWireTestsBuilds() {}
