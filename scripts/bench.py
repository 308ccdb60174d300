#!/usr/bin/env python3
"""Runs hookgate's benchmark scenarios on loopback and prints one table (see scripts/bench)."""
import argparse, hashlib, hmac, os, platform, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from datetime import date

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests/HookGateTests/Fixtures")
# GitHub's tag push example, made a creation (`deleted` false, an `after` commit) as the tests'
# Fixtures.tagPush does: a deleted tag is acted on by no action, and would measure nothing but
# "unmatched". Written into the work folder at start; scenario() checks every answer's outcome.
SOURCE_PAYLOAD = os.path.join(FIXTURES, "github-push-tag-deleted.json")
PAYLOAD = None


def write_payload(work):
    global PAYLOAD
    text = open(SOURCE_PAYLOAD).read()
    text = text.replace('"after": "0000000000000000000000000000000000000000"', '"after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"')
    text = text.replace('"deleted": true', '"deleted": false')
    PAYLOAD = os.path.join(work, "push.json")
    with open(PAYLOAD, "w") as f:
        f.write(text)


def outcomes(port):
    """hookgate_requests_total by outcome, from /metrics."""
    counts = {}
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    for line in text.splitlines():
        if match := re.match(r'hookgate_requests_total\{.*outcome="(\w+)".*\} (\d+)', line):
            counts[match.group(1)] = counts.get(match.group(1), 0) + int(match.group(2))
    return counts
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except Exception:
            time.sleep(0.005)
    return False


class Nginx:
    """nginx answering 200 to everything: the floor, and the fast downstream (Flux API)."""
    def __init__(self, work, name="nginx"):
        self.port = free_port()
        prefix = os.path.join(work, name)
        os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""daemon off; worker_processes 1; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log crit;
events {{ worker_connections 4096; }}
http {{ access_log off; client_body_buffer_size 64k; client_max_body_size 32m;
  server {{ listen 127.0.0.1:{self.port} reuseport backlog=4096; keepalive_requests 1000000;
    location / {{ return 200 '{{"status":"OK"}}'; }} }} }}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", prefix, "-c", conf], stderr=subprocess.DEVNULL)
        if not wait_http(f"http://127.0.0.1:{self.port}/"):
            sys.exit("bench: nginx did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class HookGate:
    def __init__(self, binary, config, work):
        self.port = free_port()
        self.data = tempfile.mkdtemp(dir=work, prefix="data-")
        self.started = time.time()
        self.proc = subprocess.Popen([binary, "serve", "--config", config, "--listen", f"127.0.0.1:{self.port}",
                                      "--data-dir", self.data, "--log-level", "error"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_http(f"http://127.0.0.1:{self.port}/health"):
            sys.exit("bench: hookgate did not start")
        self.startup = time.time() - self.started

    def status(self, field):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # MiB
        return 0.0

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Bare(HookGate):
    """A bare Hummingbird server with hookgate's route shape: the stack's own ceiling."""
    def __init__(self, binary, work):
        self.port = free_port()
        self.started = time.time()
        self.proc = subprocess.Popen([binary, "bare", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_http(f"http://127.0.0.1:{self.port}/health"):
            sys.exit("bench: the bare Hummingbird server did not start")
        self.startup = time.time() - self.started


def write_config(work, endpoints, api, delivery, forward=None):
    folder = tempfile.mkdtemp(dir=work, prefix="config-")
    # wrk sends one signed body again and again under fresh delivery ids; hookgate counts a signed
    # body seen before as a replay (docs/delivery.md#duplicates), so the bench turns the window off
    # to measure the path a new push takes (the duplicate check still runs: the same statements).
    lines = ["hookgateVersion: 1", f"api: {api}", "delivery: {duplicateWindow: 0s}", "endpoints:"]
    keys = []
    for i in range(endpoints):
        key = f"bench-key-{i:04d}-0123456789abcdef"
        keys.append(key)
        with open(os.path.join(folder, f"k{i}.key"), "w") as f:
            f.write(key)
        notify = f", notify: [{{forward: {{backends: [{', '.join(forward)}]}}}}]" if forward else ""
        lines.append(f"  - {{name: e{i}, source: GitHub, keyPath: k{i}.key, delivery: {delivery}{notify}}}")
    path = os.path.join(folder, "hookgate.yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, keys


def wrk_script(work, keys, body, bad=False):
    """A wrk script: POSTs the push to one endpoint after another, each with a fresh delivery id."""
    entries = []
    for key in keys:
        path = "/hook/" + hashlib.sha256(key.encode()).hexdigest()
        sig = "sha256=" + (hmac.new(b"wrong", body, hashlib.sha256) if bad else hmac.new(key.encode(), body, hashlib.sha256)).hexdigest()
        entries.append(f'{{"{path}", "{sig}"}}')
    script = os.path.join(work, f"wrk-{len(keys)}-{bad}.lua")
    with open(script, "w") as f:
        f.write(f"""local targets = {{ {", ".join(entries)} }}
local counter = 0
local prefix = ""
wrk.method = "POST"
local file = io.open("{PAYLOAD}", "rb"); wrk.body = file:read("*a"); file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
function setup(thread) thread:set("prefix", tostring(math.random(1, 1000000000))) end
function request()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  wrk.headers["X-Hub-Signature-256"] = t[2]
  wrk.headers["X-GitHub-Delivery"] = prefix .. "-" .. counter
  return wrk.format(nil, t[1])
end
""")
    return script


def to_ms(text):
    value, unit = float(re.match(r"([\d.]+)", text).group(1)), re.sub(r"[\d.]", "", text)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url, script, connections, duration):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    if not re.search(r"^\s*50%\s+\d", out, re.M):
        sys.exit("bench: wrk gave no latency figures:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    p50 = to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return dict(rps=rps, total=total, p50=p50, p99=p99, max=to_ms(latency.group(3)), non2xx=non2xx, errors=errors)


def drained(gate, limit=120):
    """Waits until hookgate stops using CPU (its queue has been delivered); returns the seconds waited."""
    started = time.time()
    while time.time() - started < limit:
        before = gate.cpu_seconds()
        time.sleep(0.3)
        if gate.cpu_seconds() - before < 0.006:
            break
    return time.time() - started


def scenario(args, work, name, nginx, endpoints=1, delivery="sync", bad=False, floor=False, bare=False, backends=None):
    expected = "unauthorized" if bad else {"sync": "notified", "queued": "queued"}[delivery]
    body = open(PAYLOAD, "rb").read()
    rows = []
    for connections in (32, 128):
        gate = None
        if floor:
            keys = ["floor-key"]
            url = f"http://127.0.0.1:{nginx.port}"
        elif bare:
            keys = ["floor-key"]
            gate = Bare(os.path.join(args.bin, "HookGateBench"), work)
            url = f"http://127.0.0.1:{gate.port}"
        else:
            forward = [f"http://127.0.0.1:{b.port}/hook" for b in backends] if backends else None
            config, keys = write_config(work, endpoints, f"http://127.0.0.1:{nginx.port}/api/flux", delivery, forward)
            gate = HookGate(os.path.join(args.bin, "hookgate"), config, work)
            url = f"http://127.0.0.1:{gate.port}"
        try:
            script = wrk_script(work, keys, body, bad)
            cpu_before = gate.cpu_seconds() if gate else 0
            recorder = None
            if args.perf and gate and connections == 32:
                # A profile of this run's process, for docs/performance.md: `perf report -i FILE`.
                os.makedirs(args.perf, exist_ok=True)
                out = os.path.join(args.perf, f"{name.split('.')[0]}-{connections}.data")
                recorder = subprocess.Popen(["perf", "record", "-g", "-q", "-p", str(gate.proc.pid), "-o", out],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result = run_wrk(url, script, connections, args.duration)
            if recorder:
                recorder.send_signal(signal.SIGINT)
                recorder.wait(30)
            if backends:
                # Forwards go on after the last answer: count their CPU too, until the queue is empty.
                result["drain"] = drained(gate)
            if gate:
                result["cpu_us"] = (gate.cpu_seconds() - cpu_before) / max(1, result["total"]) * 1e6
            if gate and not bare:
                # Every answer must be the work the scenario names (429s aside, which scenario 7's
                # concurrency cap gives): an unmatched or duplicate answer measures nothing.
                counts = outcomes(gate.port)
                if counts.get(expected, 0) + counts.get("overloaded", 0) + counts.get("rate_limited", 0) < 0.99 * result["total"]:
                    sys.exit(f"bench: {name} at {connections} connections: expected {expected} answers, hookgate counted {counts}")
                result["peak"] = gate.status("VmHWM")
                result["end"] = gate.status("VmRSS")
        finally:
            if gate:
                gate.stop()
        rows.append((name, connections, result))
    return rows


def micro(args):
    out = subprocess.run([os.path.join(args.bin, "HookGateBench"), FIXTURES, "0.5"], capture_output=True, text=True, check=True).stdout
    return [line.split("\t")[1:] for line in out.splitlines() if line.startswith("micro\t")]


def startup(args, work, nginx):
    """Start to first answer (median of 5) and idle memory: hookgate's, then a bare Hummingbird
    server's for scale. Each memory figure is VmRSS and, of it, RssAnon (the process's own memory;
    the rest is pages of the binary, shared with the page cache and reclaimable)."""
    config, _ = write_config(work, 100, f"http://127.0.0.1:{nginx.port}/api/flux", "queued")
    times, idle = [], []
    for _ in range(5):
        gate = HookGate(os.path.join(args.bin, "hookgate"), config, work)
        times.append(gate.startup * 1000)
        time.sleep(2)
        idle.append((gate.status("VmRSS"), gate.status("RssAnon")))
        gate.stop()
    bare = Bare(os.path.join(args.bin, "HookGateBench"), work)
    time.sleep(2)
    bare_idle = (bare.status("VmRSS"), bare.status("RssAnon"))
    bare.stop()
    return sorted(times)[len(times) // 2], sorted(idle)[len(idle) // 2], bare_idle


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, Linux {platform.release()}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--perf", metavar="DIR", help="record a profile (perf record -g) of each scenario's 32-connection run into DIR")
    parser.add_argument("--only", help="comma-separated scenario numbers (1, 1b, 2-5, 7) to run, for profiling; implies --no-write")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    if only:
        args.no_write = True
    wanted = lambda number: only is None or number in only
    work = tempfile.mkdtemp(prefix="hookgate-bench-")
    write_payload(work)
    nginx = Nginx(work)
    try:
        rows = []
        if wanted("1"): rows += scenario(args, work, "1. floor: nginx answers 200", nginx, floor=True)
        if wanted("1b"): rows += scenario(args, work, "1b. bare Hummingbird reads the body, answers 200", nginx, bare=True)
        if wanted("2"): rows += scenario(args, work, "2. verify + parse + sync notify", nginx, delivery="sync")
        if wanted("3"): rows += scenario(args, work, "3. verify + parse + queued (fsync)", nginx, delivery="queued")
        if wanted("4"): rows += scenario(args, work, "4. bad signature flood (401)", nginx, delivery="queued", bad=True)
        if wanted("5"): rows += scenario(args, work, "5. 100 endpoints, queued", nginx, endpoints=100, delivery="queued")
        if wanted("7"):
            backends = [Nginx(work, f"nginx-{i}") for i in range(3)]
            try:
                rows += scenario(args, work, "7. forward to 3 nginx backends, queued", nginx, delivery="queued", backends=backends)
            finally:
                for backend in backends:
                    backend.stop()
        start_ms, idle, bare_idle = startup(args, work, nginx) if only is None else (0, (0, 0), (0, 0))
        micros = micro(args) if only is None else []
    finally:
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)

    floor = {c: r["rps"] for n, c, r in rows if n.startswith("1.")}
    # Each scenario's CPU per request as a multiple of the bare stack's (1b) at the same
    # connections, in the same run: the figure issue 19's goals are stated in.
    bare_cpu = {c: r["cpu_us"] for n, c, r in rows if n.startswith("1b.") and r.get("cpu_us")}
    lines = ["| scenario | conns | req/s | % of floor | p50 ms | p99 ms | max ms | non-2xx | peak RSS MiB | end RSS MiB | CPU µs/req | × bare |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, conns, r in rows:
        pct = f"{100 * r['rps'] / floor[conns]:.0f}%" if floor.get(conns) else "-"
        gate = lambda k, fmt: (fmt % r[k]) if k in r else "-"
        times = f"{r['cpu_us'] / bare_cpu[conns]:.1f}" if "cpu_us" in r and bare_cpu.get(conns) else "-"
        lines.append(f"| {name} | {conns} | {r['rps']:.0f} | {pct} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | "
                     f"{r['non2xx'] + r['errors']} | {gate('peak', '%.1f')} | {gate('end', '%.1f')} | {gate('cpu_us', '%.0f')} | {times} |")
    drains = [(n, c, r["drain"]) for n, c, r in rows if "drain" in r]
    if drains:
        lines += ["", "Scenario 7's CPU per request includes forwarding to all three backends: the queue was delivered "
                  + ", ".join(f"{d:.1f} s after the last answer at {c} connections" for _, c, d in drains) + "."]
    lines += ["", f"Start to first answered request with 100 endpoints: {start_ms:.0f} ms (median of 5); "
              f"idle RSS: {idle[0]:.1f} MiB, of which {idle[1]:.1f} MiB anonymous (RssAnon; the rest is pages of the binary). "
              f"For scale, the bare Hummingbird server of 1b: {bare_idle[0]:.1f} MiB idle, {bare_idle[1]:.1f} MiB anonymous.", "",
              "| 6. micro: verify + parse, one core | body bytes | per second |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {size} | {int(rate):,} |" for name, size, rate in micros]
    table = "\n".join(lines)
    header = (f"Measured {date.today().isoformat()} on {machine()}, with `scripts/bench` "
              f"(wrk -t2, {args.duration} s per run, hookgate and wrk sharing the cores; scenario 4 counts 401s as non-2xx by design).")
    print(header + "\n\n" + table)
    if not args.no_write:
        doc = os.path.join(ROOT, "docs/performance.md")
        text = open(doc).read()
        start, end = "<!-- bench:start -->", "<!-- bench:end -->"
        text = text[:text.index(start) + len(start)] + "\n" + header + "\n\n" + table + "\n" + text[text.index(end):]
        open(doc, "w").write(text)


if __name__ == "__main__":
    main()
