#!/usr/bin/env python3
"""Writes seed corpora for every fuzz target from the golden vectors.

    python3 fuzz/seed_corpus.py [OUT_DIR]     (default: fuzz/corpus)

Each seed is a file named by the SHA-1 of its bytes under OUT_DIR/<target>/,
so running the script again adds nothing new and never removes what libFuzzer
found. Inputs use the framing of fuzz/src/lib.rs:

    [n] [n control bytes] field 0xFF field 0xFF ...

(decide, parse_key, scan, load_json and store_record read plain text).
"""

import base64
import hashlib
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "tests", "vectors")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
BASE_SECS = 1_773_829_800
LIB = open(os.path.join(HERE, "src", "lib.rs"), encoding="utf-8").read()
DECISION_FILES = re.findall(r'\("(\w+)", include_str!', LIB)
KITCHEN_SINK = json.loads(re.search(r'pub const KITCHEN_SINK: &str = r#"(.*?)"#;', LIB, re.S).group(1))
PRESETS = json.load(open(os.path.join(VECTORS, "parse_presets.json")))["formats"]

written = {}


def load(name):
    with open(os.path.join(VECTORS, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def i32(v):
    return struct.pack("<i", v)


def i64(v):
    return struct.pack("<q", v)


def frame(ctl, fields):
    assert len(ctl) <= 255, len(ctl)
    return bytes([len(ctl)]) + ctl + b"\xff".join(f.encode("utf-8") for f in fields)


def save(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(data).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    written[target] = written.get(target, 0) + 1


def epoch_secs(text):
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def clock(now_text):
    """Clock mode 4: BASE + i64 seconds (nanos 0)."""
    return u8(4) + i64(epoch_secs(now_text) - BASE_SECS) + u32(0)


def decision_files():
    for index, name in enumerate(DECISION_FILES):
        yield index, name, load(name)


def matching_record(doc, vector):
    """The record a vector's request presents (by preview), else the first."""
    records = doc.get("records", [])
    if vector.get("record_id"):
        return next((r for r in records if r["id"] == vector["record_id"]), None), 2
    blob = " ".join(v for _, v in vector["request"]["headers"])
    for token in blob.replace("\t", " ").split(" "):
        try:
            blob += " " + base64.b64decode(token + "=" * (-len(token) % 4)).decode("utf-8", "replace")
        except Exception:
            pass
    for r in records:
        head, _, tail = r.get("preview", "").partition("\u2026")
        if head and tail and head in blob and tail in blob:
            return r, 0
    return (records[0] if records else None), 0


def verify_step_seeds():
    configs = [(i, doc["config"]) for i, _, doc in decision_files()]
    configs.append((len(DECISION_FILES), KITCHEN_SINK))
    # Golden requests against their golden records (record loaded as JSON).
    for index, _, doc in decision_files():
        for v in doc["vectors"]:
            record, host = matching_record(doc, v)
            req = v["request"]
            flags = 0b100 | (1 if req.get("client_ip") is None else 0)
            state = v.get("rate_limit_state")
            ctl = u8(index) + clock(v["now"]) + u32(flags)
            ctl += u8(5) + i64(state["tat_us"]) if state else u8(0)
            ctl += u8(host) + u8(0) + i32(0) + u8(0)
            fields = [req["method"], req["path"], req.get("client_ip") or "", json.dumps(record) if record else ""]
            fields += [""] * 6
            for name, value in req["headers"]:
                if len(value) > 5000:
                    value = value[:5000]
                fields += [name, value]
            save("verify_step", frame(ctl, fields))
    # Minted keys for every route and format of every deployment, in each header shape.
    for index, config in configs:
        policy = config.get("policy", {})
        routes = policy.get("routes", [])
        nformats = len(config.get("formats", []))
        for r in range(max(len(routes), 1)):
            for f in range(nformats):
                for style in (0, 2, 3, 4, 5):
                    flags = 0b10 if routes else 0
                    ctl = u8(index) + u8(0) + i32(0) + u32(flags)
                    if routes:
                        ctl += u8(r) + u8(style)  # route, method
                    ctl += u8(f) + bytes(range(r * 7 + f, r * 7 + f + 32))
                    mflags = 0b111 | (0b1000 if policy.get("plans") else 0)
                    ctl += u16(mflags)
                    if policy.get("plans"):
                        ctl += u8(r)
                    ctl += u8(0) * 3  # status, expiry, rotation: unchanged
                    ctl += u8(0) + u8(0) + u8(style) + u8(1)  # key as minted, header shape, client id header
                    ctl += u8(0) + u8(0) + u8(0) + i32(0) + u8(0)
                    save("verify_step", frame(ctl, ["GET", "", "203.0.113.7", ""] + [""] * 6))


def decide_seeds():
    for _, _, doc in decision_files():
        for v in doc["vectors"]:
            req = v["request"]
            parts = [req["method"], req["path"], req.get("client_ip") or "203.0.113.7"]
            for name, value in req["headers"]:
                parts += [name, value[:5000]]
            save("decide", "\x01".join(parts).encode("utf-8"))


def extract_headers_seeds():
    for name in DECISION_FILES + ["hostile_catalogue_headers"]:
        doc = load(name)
        for v in doc["vectors"]:
            fields = []
            for n, value in v["request"]["headers"]:
                fields += [n, value[:5000]]
            for cfg in range(6):
                save("extract_headers", frame(u8(cfg) + u8(0) + u16(0), fields))


def ip_parsing_seeds():
    clients, entries = set(), set()
    for name in DECISION_FILES + ["lifecycle"]:
        doc = load(name)
        for r in doc.get("records", []):
            entries.update(r.get("allowed_ips", []))
        for v in doc["vectors"]:
            ip = v.get("request", {}).get("client_ip")
            if ip is not None:
                clients.add(ip)
            upd = v.get("operation", {}).get("update", {})
            entries.update(upd.get("allowed_ips") or [])
    entries.update(["0.0.0.0/0", "::/0", "10.0.0.0/8", "::ffff:10.0.0.0/104", "2001:db8::/32", "203.0.113.9/24",
                    "198.51.100.42", "fe80::1%eth0", "0x7f.1", "127.1", "010.0.0.1", " 10.0.0.1", "1.2.3.4/32",
                    "::1/128", "::ffff:1.2.3.4", "1.2.3.4/33", "::/129"])
    clients.update(["::ffff:203.0.113.7", "203.0.113.7", "2001:db8::5", " 10.0.0.1 ", "fe80::1%eth0", "0x7f.1"])
    entries = sorted(entries)
    for i, client in enumerate(sorted(clients)):
        for which in range(6):
            ctl = bytes(range(i, i + 16)) + u32(0xCB007100 + i) + u8((i * 13) % 140) + u8(which)
            save("ip_parsing", frame(ctl, [client] + entries[i % len(entries):][:4]))


def gcra_seeds():
    for v in load("rate_limit_gcra")["vectors"]:
        q, state = v["quota"], v["state"]
        mode = 1 | 8 | ((1 << 1) if state is not None else 0)
        ctl = u32(q["limit"]) + u32(q.get("period_seconds", 60)) + u32(q["burst"]) + u8(mode)
        ctl += i64(state["tat_us"] if state else 0) + i64(v["now_us"]) + u32(v["cost"])
        save("gcra", frame(ctl, []))
        # The same quota driven through a sequence of requests.
        steps = b"".join(u16(s * 37) + u8(s % 5) + u8(s % 3) for s in range(20))
        save("gcra", frame(ctl[:12] + u8(0) + ctl[13:] + steps, []))


def mint_expiry_seeds():
    presets = ["15d", "25d", "45d", "90d", "6m", "1y", "3660d", "120m", "10y", "1w", "11y", "0d", "99999d"]
    for n, v in enumerate(load("mint_presets")["vectors"]):
        fmt = PRESETS.index(v["format"]) if v["format"] in PRESETS else 0
        random = bytes.fromhex(v["random_hex"])[:63]
        ctl = u8(fmt) + u8(n % 2) + clock(v["now"]) + u8(len(random)) + random
        save("mint_expiry", frame(ctl, [json.dumps(v["options"]), presets[n % len(presets)]]))


def lifecycle_seeds():
    ops = {"rotate": 0, "revoke": 2, "disable": 3, "enable": 4, "update": 5}
    for v in load("lifecycle")["vectors"]:
        op = v["operation"]
        code = ops[op["op"]]
        ctl = u8(code) + clock(v["now"])
        fields = [json.dumps(v["record"])]
        if op["op"] == "rotate":
            fields += ["%dh" % op["grace_hours"] if op["grace_hours"] >= 0 else "-1h", op["successor_id"]]
        elif op["op"] == "update":
            fields += [json.dumps(op["update"])]
        else:
            fields += [""]
        # Then the engine's rotate, an update, successor options, a revoke.
        ctl += u8(1) + clock(v["now"]) + u8(6) + clock(v["now"]) + u8(8) + clock(v["now"]) + u8(2) + u8(0) + i32(-86400)
        fields += ["key_next0001", json.dumps({"name": "Renamed", "scopes": ["a:b"]}), "", ""]
        save("lifecycle", frame(ctl, fields))


def records_and_formats():
    out = []
    for name in DECISION_FILES:
        doc = load(name)
        out += [json.dumps(r) for r in doc.get("records", [])]
        out += [json.dumps(f) for f in doc["config"].get("formats", []) if isinstance(f, dict)]
    for v in load("lifecycle")["vectors"]:
        out.append(json.dumps(v["record"]))
        if v["expected"].get("record"):
            out.append(json.dumps(v["expected"]["record"]))
    for v in load("mint_presets")["vectors"]:
        if v["expected"].get("record"):
            out.append(json.dumps(v["expected"]["record"]))
    for v in load("config_errors")["vectors"]:
        if v["what"] in ("record", "format"):
            out.append(v["input"])
    return out


def store_record_seeds():
    for text in records_and_formats():
        save("store_record", text.encode("utf-8"))


def load_json_seeds():
    texts = records_and_formats()
    texts += [v["input"] for v in load("config_errors")["vectors"]]
    texts += [json.dumps(v["options"]) for v in load("mint_presets")["vectors"]]
    for _, _, doc in decision_files():
        texts.append(json.dumps(doc["config"]))
        texts.append(json.dumps(doc["config"].get("policy", {})))
        texts.append(json.dumps(doc["vectors"][0]["request"]))
    texts.append(json.dumps(KITCHEN_SINK))
    for v in load("lifecycle")["vectors"]:
        if "update" in v["operation"]:
            texts.append(json.dumps(v["operation"]["update"]))
    for text in texts:
        save("load_json", text.encode("utf-8"))


def parse_key_seeds():
    for v in load("parse_presets")["vectors"]:
        save("parse_key", v["key"].encode("utf-8"))
    for v in load("mint_presets")["vectors"]:
        if v["expected"].get("key"):
            save("parse_key", v["expected"]["key"].encode("utf-8"))


def scan_seeds():
    for v in load("scan_text")["vectors"]:
        save("scan", v["text"].encode("utf-8"))
    for v in load("parse_presets")["vectors"]:
        save("scan", ("token=" + v["key"] + "\n").encode("utf-8"))


def tokens_seeds():
    """Each issued token unchanged (the target issues them itself), then with one
    edit of each kind in its header, claims and signature."""
    for base in range(6):
        save("tokens", frame(u8(base), []))
        for kind in range(5):
            for pos in (10, 80, 200):
                save("tokens", frame(u8(base) + u8(kind) + u8(pos) + u8(0x41 + base), []))


def completion_seeds():
    """Each key, with every combination of host writes, counters empty or spent, answered
    right throughout; then with a lost write, and with each out-of-turn answer."""
    for key in range(5):
        for writes in range(8):
            for spent in (0, 200):
                save("completion", frame(u8(key) + u8(writes) + u8(spent), []))
                for noise in (11, 12, 13, 14, 15):
                    save("completion", frame(u8(key) + u8(writes) + u8(spent) + u8(0) * 3 + u8(noise), []))


if __name__ == "__main__":
    for fn in (verify_step_seeds, decide_seeds, extract_headers_seeds, ip_parsing_seeds, gcra_seeds,
               mint_expiry_seeds, lifecycle_seeds, store_record_seeds, load_json_seeds, parse_key_seeds, scan_seeds,
               tokens_seeds, completion_seeds):
        fn()
    for target in sorted(written):
        count = len(os.listdir(os.path.join(OUT, target)))
        print(f"seeds: {target:16} {written[target]:5} from the golden vectors, {count:6} in {os.path.relpath(OUT)}/{target}")
