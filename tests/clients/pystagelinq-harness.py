"""PyStageLinQ 0.2.1 against djdissect's emulated StageLinQ units (clients.md 5 and 7.4).

Usage: venv/bin/python pystagelinq-harness.py IP SECONDS

Binds the client to IP (a unicast address: the unit must send its HOWDY to it, clients.md
5.1), prints one JSON object per line on stdout: device (with its service list), statemap
(each value once), errors, and a summary. tests/stagelinq_clients.rs asserts on these lines.
Exit 3 if the library raises; the run is bounded by a watchdog (start_standalone blocks).
"""

import json
import os
import sys
import threading
import time

from PyStageLinQ import PyStageLinQ

IP = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
T0 = time.time()
COUNTS = {"devices": 0, "values": 0}
SEEN = set()
PATHS = {
    f"Deck{d}{leaf}": f"/Engine/Deck{d}/{path}"
    for d in (1, 2)
    for leaf, path in (
        ("SongName", "Track/SongName"),
        ("ArtistName", "Track/ArtistName"),
        ("PlayState", "PlayState"),
        ("CurrentBPM", "CurrentBPM"),
    )
}
PATHS["MasterTempo"] = "/Engine/Master/MasterTempo"


def say(event, **fields):
    print(json.dumps({"t": round(time.time() - T0, 3), "event": event, **fields}), flush=True)


def on_values(data):
    for d in data:
        value = d.ParameterValue
        key = (d.ParameterName, json.dumps(value, sort_keys=True, default=str))
        if key in SEEN:
            continue
        SEEN.add(key)
        COUNTS["values"] += 1
        say("statemap", name=d.ParameterName, json=value)


def on_device(ip, frame, services):
    COUNTS["devices"] += 1
    say(
        "device",
        ip=ip,
        name=frame.device_name,
        software=frame.sw_name,
        version=frame.sw_version,
        port=frame.Port,
        services=[[s.service, s.port] for s in services or []],
    )
    for s in services or []:
        if s.service == "StateMap":
            ps.subscribe_to_statemap(s, PATHS, on_values)


def watchdog():
    time.sleep(SECONDS)
    say("summary", **COUNTS)
    os._exit(0)


threading.Thread(target=watchdog, daemon=True).start()
try:
    ps = PyStageLinQ.PyStageLinQ(on_device, name="djdissect-test", ip=IP)
    ps.start_standalone()
    # start_standalone returns when discovery gives up (no HOWDY for 2 s, clients.md 5.1).
    say("stopped")
    time.sleep(max(0.0, SECONDS - (time.time() - T0)))
    say("summary", **COUNTS)
    os._exit(0)
except BaseException as e:  # noqa: BLE001 - any library failure is the test's failure
    say("uncaught", message=repr(e))
    os._exit(3)
