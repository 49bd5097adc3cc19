import Testing

@Test func SIOCaptureTestsBuilds() {}
