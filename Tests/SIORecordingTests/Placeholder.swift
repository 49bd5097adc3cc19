import Testing

@Test func SIORecordingTestsBuilds() {}
