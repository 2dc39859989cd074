"""End to end in the host's real Krita with the backend "on another machine": kritarc's `backend` is an
ssh:// address of a throwaway sshd on 127.0.0.1 (tests/ssh_server.py) whose checkout is this one."""

import pytest
from ssh_server import ssh_server  # noqa: F401  (the fixture)

import krita_harness
from krita_harness import HOST, SETTINGS, check_full_scenario


@pytest.mark.skipif(not krita_harness.available(HOST), reason="needs krita, xvfb-run and xdotool")
def test_full_scenario_in_real_krita_over_ssh(tmp_path, ssh_server):  # noqa: F811
    profile = krita_harness.Profile(tmp_path, HOST)
    profile.install()
    # One [krita_nst] group: the job settings and where the backend runs.
    profile.set("krita_nst", dict(SETTINGS, backend=ssh_server.spec(), ssh_options=ssh_server.options()))
    results, out = profile.launch("full")
    assert results.get("ok"), results.get("error") or results
    check_full_scenario(results, out)
    assert any(label.endswith(" on 127.0.0.1") for label in results["backend_label"]), results["backend_label"]
    assert results["leftover_backends"] == []
    assert ssh_server.wait_no_backends() == [], "a remote backend outlived Krita"
    assert ssh_server.clients() == [], "an ssh client outlived Krita"
