//! Allocations per request, counted by a global allocator on this test's thread:
//! deterministic, unlike timings, so a regression (a denial copying what the
//! engine rendered once, a lookup hash built twice) fails here, not just in the
//! bench. Bounds are today's counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs, unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use keyproof::{Engine, KeyRecord, MintOptions, Step};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the count
// is a const-initialised thread-local `Cell`, which never allocates itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations `f` makes on this thread (after one warm-up call).
fn allocations<T>(mut f: impl FnMut() -> T) -> usize {
    drop(f());
    let before = ALLOCATIONS.with(Cell::get);
    drop(f());
    ALLOCATIONS.with(Cell::get) - before
}

fn setup() -> (Engine, String, KeyRecord) {
    let engine = Engine::from_json(
        r#"{"formats": ["matchii_live"], "policy": {"environments": ["live"], "routes": [
            {"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]},
            {"method": "POST", "path": "/v1/api-keys/{id}/rotate", "all_of": ["admin"]}]}}"#,
    )
    .unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let mut options = MintOptions::named("Counted key");
    options.scopes = vec!["briefs:read".into()];
    let minted = engine.mint(None, &options, &[42u8; 32], now).unwrap();
    (engine, minted.key.expose().to_string(), minted.record)
}

#[test]
fn requests_allocate_only_what_each_request_needs() {
    let (engine, key, record) = setup();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let bearer = |k: &str| [("authorization".to_string(), format!("Bearer {k}"))];
    // The host loop of a host that keeps its records in `Arc`s (a cache): the
    // engine's own allocations, no record copy.
    let shared = Arc::new(record.clone());
    let decide = |method: &str, path: &str, headers: &[(String, String)]| {
        let mut v = engine.begin(method, path, headers, None, now);
        while let Step::LookupRecord(hash) = v.next_step() {
            v.shared_record((hash == shared.hash).then(|| Arc::clone(&shared)));
        }
        v.finish().decision
    };
    // `decide` on a borrowed record copies it once, for the principal to share.
    let borrowed = |headers: &[(String, String)]| {
        let prepared = engine.prepare("GET", "/v1/briefs", headers, None);
        let found = prepared.lookup_hashes().first().is_some_and(|h| *h == record.hash);
        engine.decide(&prepared, found.then_some(&record), now, None)
    };
    let (good, malformed, unknown) = (bearer(&key), bearer("mk_live_tooShort"), bearer(&format!("{key}x")));
    assert_eq!(decide("GET", "/v1/briefs", &good).status, 200);
    assert_eq!(borrowed(&good).status, 200);
    let counts = [
        ("allowed", allocations(|| decide("GET", "/v1/briefs", &good)), 3),
        ("allowed, borrowed record", allocations(|| borrowed(&good)), 13),
        // A denial's headers and body are the engine's, shared: only the message and the credential.
        ("malformed key", allocations(|| decide("GET", "/v1/briefs", &malformed)), 4),
        ("unknown key", allocations(|| decide("GET", "/v1/briefs", &unknown)), 4),
        // A denial after the key was identified also names it (`Decision::key_id`): one more.
        ("insufficient scope", allocations(|| decide("POST", "/v1/api-keys/k/rotate", &good)), 7),
    ];
    for (what, count, bound) in counts {
        assert!(count <= bound, "{what}: {count} allocations, more than {bound}: {counts:?}");
    }
    // The rendered denial is shared, not copied: two decisions point at one body.
    let (a, b) = (decide("GET", "/v1/briefs", &malformed), decide("GET", "/v1/briefs", &malformed));
    assert!(std::ptr::eq(a.body.as_deref().unwrap(), b.body.as_deref().unwrap()));
    assert!(std::ptr::eq(a.headers.as_ptr(), b.headers.as_ptr()));
}

#[test]
fn a_cached_record_answers_without_a_copy() {
    let (_, key, record) = setup();
    let engine = Engine::from_json(
        r#"{"formats": ["matchii_live"], "record_cache": {"ttl_seconds": 60}, "policy": {"environments": ["live"],
            "routes": [{"method": "GET", "path": "/v1/briefs", "all_of": ["briefs:read"]}]}}"#,
    )
    .unwrap();
    let now = chrono::DateTime::from_timestamp(1_773_829_800, 0).unwrap();
    let headers = [("authorization".to_string(), format!("Bearer {key}"))];
    let mut asked = 0;
    // The host loop of `Completion`, as every verifier runs it; the host writes nothing.
    let mut verify = || {
        let mut c = keyproof::Completion::new(engine.begin("GET", "/v1/briefs", &headers, None, now));
        c.set_host_writes(false, false);
        loop {
            match c.next_action() {
                keyproof::Action::LookupRecord(hash) => {
                    asked += 1;
                    let found = (hash == record.hash).then(|| record.clone());
                    c.record(found);
                }
                keyproof::Action::Done(d) => break d.status,
                other => panic!("{other:?}"),
            }
        }
    };
    assert_eq!(verify(), 200);
    let count = allocations(&mut verify);
    // The step's own three and the completion's boxed outcome: the cache copies nothing.
    assert!(count <= 4, "a cache hit: {count} allocations");
    assert_eq!(asked, 1, "only the first request reached the host");
}
