"""The CI entry point (.ci/run) cannot let the browser check skip silently.

``.ci/run`` is run in a sandbox: a temporary folder first on ``PATH`` holds stand-ins for
``apt-get``, ``npm``, ``python3`` and ``make`` that only record how they were called, so the
test neither installs anything nor runs the real suite.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import ROOT

RUN = ROOT / ".ci" / "run"


def _stub(folder, name, body="exit 0"):
    path = folder / name
    path.write_text(f"#!/usr/bin/env bash\necho \"{name} $*\" >> \"$CALLS\"\n{body}\n")
    path.chmod(0o755)
    return path


def _run_ci(tmp_path, chromium, with_npm):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls.txt"
    calls.touch()
    _stub(stubs, "apt-get", "exit 100")  # installing is impossible in the sandbox
    _stub(stubs, "python3")
    _stub(stubs, "make", 'echo "make env TLLAB_REQUIRE_BROWSER=$TLLAB_REQUIRE_BROWSER" >> "$CALLS"')
    path = [str(stubs)]
    if not with_npm:  # a PATH without npm: only the folders of what the script needs
        path.append(str(tmp_path / "nonpm"))
        (tmp_path / "nonpm").mkdir()
        for tool in ("bash", "dirname", "id", "env"):
            real = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True,
                                  text=True).stdout.strip()
            (tmp_path / "nonpm" / tool).symlink_to(real)
    else:
        _stub(stubs, "npm")
        path.append(os.environ["PATH"])
    env = {"PATH": os.pathsep.join(path), "CALLS": str(calls), "TLLAB_CHROMIUM": str(chromium),
           "HOME": str(tmp_path), "CI": "true"}
    env.pop("TLLAB_REQUIRE_BROWSER", None)
    proc = subprocess.run(["bash", str(RUN)], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)
    return proc, calls.read_text().splitlines()


def test_ci_fails_when_chromium_cannot_be_installed(tmp_path):
    proc, calls = _run_ci(tmp_path, tmp_path / "no-chromium", with_npm=True)
    assert proc.returncode != 0
    assert "chromium" in proc.stderr and "required" in proc.stderr
    assert not any(c.startswith(("make", "python3")) for c in calls)  # no test run at all


def test_ci_fails_when_npm_is_missing(tmp_path):
    chromium = _stub(tmp_path, "chromium")
    proc, calls = _run_ci(tmp_path, chromium, with_npm=False)
    assert proc.returncode != 0
    assert "npm" in proc.stderr
    assert not any(c.startswith(("make", "python3")) for c in calls)


def test_ci_vendors_strictly_and_requires_the_browser_check(tmp_path):
    chromium = _stub(tmp_path, "chromium")
    proc, calls = _run_ci(tmp_path, chromium, with_npm=True)
    assert proc.returncode == 0, proc.stderr
    assert "python3 tools/vendor_js.py" in calls  # without --optional: a failure stops CI
    assert calls[-2:] == ["make test", "make env TLLAB_REQUIRE_BROWSER=1"]


def test_browser_check_fails_instead_of_skipping_where_required(monkeypatch):
    import test_browser

    def outcome():
        # skip and fail are both BaseExceptions; catch them here so that a skip cannot
        # escape and turn this test itself into a skip
        try:
            test_browser.unavailable("no Chromium at /nowhere")
        except (pytest.skip.Exception, pytest.fail.Exception) as out:
            return type(out), str(out)
        return None, ""

    monkeypatch.setenv("TLLAB_REQUIRE_BROWSER", "1")
    kind, message = outcome()
    assert kind is pytest.fail.Exception and "required" in message and "no Chromium" in message
    monkeypatch.delenv("TLLAB_REQUIRE_BROWSER")
    kind, message = outcome()
    assert kind is pytest.skip.Exception and "skipped: no Chromium" in message
