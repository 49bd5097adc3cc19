import Testing

/// The suites that load the whole machine (Autobahn's fuzzing client, the crash loop, 10,000
/// connections, the floods of hostile peers) run one after another, never two at once: nested in
/// this serialized suite. They still run alongside the light suites, whose checks wait for
/// events (lines, marks, closes), never for a fixed time.
@Suite(.serialized)
enum HeavySuites {}
