#!/usr/bin/env python3
"""Three wssaudiochunk-ingest shards behind a load balancer (the committed
deploy/nginx/wssaudiochunk.conf or deploy/haproxy/haproxy.cfg, with this
test's ports), twelve real-time speakers whose location carries the
session id (?sessionId=ID for half of them, /ws/ID for the others), and one
shard killed with SIGKILL mid-stream:

    test_shards.py JOIN INGEST nginx|haproxy kill|restart

kill: the shard stays dead (each shard has its own output directory).
restart: the shard is started again on the same port at once (the shards
share one output directory); its sessions must come back to it.

Then wssaudiochunk-join: every session's joined recording must decode to
what its speaker sent (the WebM the speaker's pipeline made, decoded the same
way) within one 20 ms frame, and the sessions of the killed shard must be
reported in more than one part. Prints the failover figures."""

import json
import os
import re
import signal
import socket
import sys
import time

import deploylib
import interop

JOIN, INGEST, LB, MODE = sys.argv[1:5]
REPO = os.path.join(deploylib.HERE, "..", "..")
SPEAKERS = 12
SECONDS = 16.0
KILL_AT = 6.0
FRAME = 320  # one 20 ms Opus frame at 16 kHz


def start_shard(h, name, port, outdir):
    os.makedirs(outdir, exist_ok=True)
    portfile = h.path(name + ".port")
    if os.path.exists(portfile):
        os.unlink(portfile)
    p = h.spawn(name, [INGEST, "--address", "127.0.0.1", "--port", str(port), "--output-dir", outdir,
                       "--max-connections-per-address", "0", "--idle-timeout", "5",
                       "--port-file", portfile])
    h.wait_for(name + " to listen", lambda: os.path.exists(portfile) and open(portfile).read().strip(),
               30, proc=p)
    return p, int(open(portfile).read().strip())


def nginx_config(h, lb_port, ports):
    with open(os.path.join(REPO, "deploy", "nginx", "wssaudiochunk.conf")) as f:
        conf = f.read()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+ .*;$", conf, re.M)
    if len(servers) != 3 or "listen 8080;" not in conf:
        raise interop.Failure("deploy/nginx/wssaudiochunk.conf no longer has 3 shards and listen 8080")
    for line, port in zip(servers, ports):
        conf = conf.replace(line, re.sub(r":\d+ ", ":%d " % port, line), 1)
    conf = conf.replace("listen 8080;", "listen 127.0.0.1:%d;" % lb_port)
    d = h.path("nginx")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "wssaudiochunk.conf"), "w") as f:
        f.write(conf)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write("daemon off; master_process on; worker_processes 1; pid %s/nginx.pid;\n"
                "error_log %s/error.log notice;\nevents { worker_connections 1024; }\n"
                "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
                "  fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
                "  include %s/wssaudiochunk.conf; }\n" % ((d,) * 8))
    return ["nginx", "-c", os.path.join(d, "nginx.conf"), "-p", d, "-e", "stderr"]


def haproxy_config(h, lb_port, ports):
    with open(os.path.join(REPO, "deploy", "haproxy", "haproxy.cfg")) as f:
        conf = f.read()
    for n, port in enumerate(ports, 1):
        conf, k = re.subn(r"(server shard%d )127\.0\.0\.1:\d+" % n, r"\g<1>127.0.0.1:%d" % port, conf)
        if k != 1:
            raise interop.Failure("deploy/haproxy/haproxy.cfg no longer has server shard%d" % n)
    conf = conf.replace("bind :8080", "bind 127.0.0.1:%d" % lb_port)
    path = h.path("haproxy.cfg")
    with open(path, "w") as f:
        f.write(conf)
    return ["haproxy", "-db", "-f", path]


def parts_on_disk(dirs):
    return sum(1 for d in dirs if os.path.isdir(d) for n in os.listdir(d) if n.endswith(".chunks"))


def body(h):
    shared = MODE == "restart"
    outdirs = [h.path("recordings")] * 3 if shared else [h.path("shard%d" % i) for i in range(3)]
    shards, ports = [], []
    for i in range(3):
        p, port = start_shard(h, "shard%d" % i, 0, outdirs[i])
        shards.append(p)
        ports.append(port)
    lb_port = interop.free_port()
    argv = nginx_config(h, lb_port, ports) if LB == "nginx" else haproxy_config(h, lb_port, ports)
    lb = h.spawn(LB, argv)

    def lb_up():
        try:
            socket.create_connection(("127.0.0.1", lb_port), timeout=1).close()
            return True
        except OSError:
            return False
    h.wait_for(LB + " to listen", lb_up, 30, proc=lb)

    cfg = {"deadline": SECONDS + 60, "speakers": []}
    for i in range(SPEAKERS):
        sid = "talk-%02d" % i
        cfg["speakers"].append({
            "name": sid, "session": sid, "seconds": SECONDS, "freq": 300 + 40 * i,
            # Both keys the configurations hash on: the query, the path.
            "location": ("ws://127.0.0.1:%d/ws?sessionId=%s" if i % 2 == 0 else "ws://127.0.0.1:%d/ws/%s")
            % (lb_port, sid),
            "ref": h.path("sent-%s.webm" % sid),
            # Keep reconnecting through the failover; a dead shard's sessions
            # must not give up.
            "props": {"max-retries": -1, "async-connect": True}})
    with open(h.path("speakers.json"), "w") as f:
        json.dump(cfg, f)
    drv = h.spawn("speakers", ["/usr/bin/python3", os.path.join(deploylib.HERE, "speakers.py"),
                               h.path("speakers.json"), h.path("speakers-result.json")])
    h.wait_for("the speakers to play", lambda: "speakers: playing" in h.read_log("speakers"), 60, proc=drv)
    t_play = time.time()

    # The shard to kill: the one holding most sessions once all have started.
    time.sleep(KILL_AT)

    def sessions_of(i):
        return {n.split(".")[0] for n in os.listdir(outdirs[i]) if n.endswith((".chunks", ".wav"))} \
            if os.path.isdir(outdirs[i]) else set()
    if shared:
        victim = 0
    else:
        victim = max(range(3), key=lambda i: len(sessions_of(i)))
    moved = sessions_of(victim) if not shared else None
    t_kill = time.time()
    os.kill(shards[victim].pid, signal.SIGKILL)
    shards[victim].wait(timeout=10)
    interop.log("killed shard%d (port %d) %.1f s into the run" % (victim, ports[victim], t_kill - t_play))
    if MODE == "restart":
        shards[victim], _ = start_shard(h, "shard%d-restarted" % victim, ports[victim], outdirs[victim])
        interop.log("restarted shard%d on port %d after %.2f s" % (victim, ports[victim], time.time() - t_kill))

    h.wait_for("every speaker to end", lambda: drv.poll() is not None, SECONDS + 90)
    if drv.returncode != 0:
        raise interop.Failure("the speaker driver failed:\n" + h.tail("speakers"))
    for p in shards:
        if p.poll() is None:
            h.stop(p, sig=signal.SIGTERM, grace=20)
    h.stop(lb)
    with open(h.path("speakers-result.json")) as f:
        result = json.load(f)

    ended = [sp["session"] for sp in result["speakers"] if sp["eos"] and not sp["errors"]]
    if len(ended) != SPEAKERS:
        raise interop.Failure("speakers without a clean end: %s" % [
            (sp["session"], sp["errors"]) for sp in result["speakers"] if sp["session"] not in ended])
    failover = []
    for sp in result["speakers"]:
        reconnects = [t for t, state in sp["connections"] if state == "connected" and t > t_kill]
        if (moved is None or sp["session"] in moved) and reconnects:
            failover.append(round(reconnects[0] - t_kill, 2))
    interop.log("figures: shard%d held %s; failover (kill to the speaker's next connection) %s s"
                % (victim, sorted(moved) if moved is not None else "?", interop.stats(failover)))
    if parts_on_disk(set(outdirs)) == 0:
        raise deploylib.Skip("wssaudiochunk-ingest wrote no per-session journal (SESSION.chunks): "
                             "this build's recordings cannot be joined")

    reports = deploylib.run_join(h, JOIN, sorted(set(outdirs)), h.path("joined"))
    interop.log(h.read_log("join"))
    failures = []
    identical = 0
    for sp in result["speakers"]:
        sid = sp["session"]
        if not sp["eos"] or sp["errors"]:
            failures.append("%s: no clean end: %s" % (sid, sp["errors"]))
            continue
        # The shards' ack promise (X-Wssaudiochunk-Acks) reached the sink through nginx.
        if sp["stats"].get("acks-promised") is not True:
            failures.append("%s: acks-promised %r: the balancer dropped the promise header"
                            % (sid, sp["stats"].get("acks-promised")))
        r = reports.get(sid)
        if r is None:
            failures.append("%s: no joined recording" % sid)
            continue
        ref = deploylib.decode_to_samples(h, h.path("sent-%s.webm" % sid), "decode-" + sid)
        got = interop.read_wav_16k_mono(h, r["wav"])
        gaps = [g for s in r["streams"] for g in s["gaps"]]
        if gaps or r["conflicts"] or not r["ok"]:
            failures.append("%s: gaps %s, conflicts %d, problems %s" % (sid, gaps, r["conflicts"], r["problems"]))
        identical += got == ref
        if abs(len(got) - len(ref)) > FRAME:
            failures.append("%s: joined %.3f s, sent %.3f s" % (sid, len(got) / 16000.0, len(ref) / 16000.0))
        if moved is not None and sid in moved and len(r["parts"]) < 2:
            failures.append("%s: was on the killed shard, yet %d part reported" % (sid, len(r["parts"])))
        interop.log("%s: %d part(s), %.3f s joined of %.3f s sent, overlap %d, replayed %s"
                    % (sid, len(r["parts"]), len(got) / 16000.0, len(ref) / 16000.0, r["overlapping"],
                       sp["stats"].get("chunks-replayed")))
    split = sum(1 for r in reports.values() if len(r["parts"]) > 1)
    interop.log("figures: %d speakers, %d sessions in more than one part, %d joined recordings "
                "sample-identical to the decoded sent stream" % (SPEAKERS, split, identical))
    if MODE == "restart":
        back = sorted(set(re.findall(r"session started: (talk-\d+)", h.read_log("shard%d-restarted" % victim))))
        interop.log("figures: sessions that came back to the restarted shard: %s" % back)
        if not back:
            failures.append("no session came back to the shard restarted on its port")
    if (moved is not None and not moved) or split == 0:
        failures.append("no session was split by the kill: nothing was tested")
    if failures:
        raise interop.Failure("\n".join(failures))


if __name__ == "__main__":
    interop.require_tools("gst-launch-1.0", LB)
    deploylib.main("shards-%s-%s" % (LB, MODE), body, deadline_s=SECONDS + 150)
