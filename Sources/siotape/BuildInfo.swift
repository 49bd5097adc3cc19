/// The version of this siotape and the commit it was built from.
///
/// `version` follows semantic versioning (README, CHANGELOG.md); the recording format has its own
/// version (`RecordingHeader.currentVersion`). `commit` is `nil` in the source: `tools/release`
/// builds from a clean copy of the commit (`git archive`) and writes the commit's id here in that
/// copy, so a release binary names its source exactly and a development build never claims to.
enum BuildInfo {
    static let version = "0.3.1"
    static let commit: String? = nil

    /// `0.3.0 (commit <40 hex digits>)`, or `0.3.0 (development build)` outside `tools/release`:
    /// what `siotape --version` prints.
    static var description: String {
        "\(version) (\(commit.map { "commit \($0)" } ?? "development build"))"
    }
}
