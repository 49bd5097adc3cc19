"""The CI step of github-actions.yml, run as it runs there: `replay run` of the committed recording
against the real server, with a JUnit report."""
import pathlib
import subprocess
import xml.etree.ElementTree as ElementTree

HERE = pathlib.Path(__file__).parent


def test_replay_run_step_passes_and_writes_junit(tmp_path):
    report = tmp_path / "replay-junit.xml"
    step = subprocess.run([HERE / "replay-run-ci", report], capture_output=True, text=True, timeout=120)
    assert step.returncode == 0, step.stdout + step.stderr
    suite = ElementTree.parse(report).getroot()
    if suite.tag == "testsuites":
        suite = suite.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 1  # one recorded session
    assert not any(case.find("failure") is not None or case.find("error") is not None for case in cases)

