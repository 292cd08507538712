//! Fuzzing, on stable Rust: the parsers of what people type — the filter language (text and
//! JSON) and chat commands — get generated inputs (token soups, mutations of real inputs, deep
//! nesting, long repetitions, texts around the length bounds) and must never panic, must keep
//! their invariants (see `check_*`), and must refuse with a position or a path.
//!
//! - `cargo test -p dispatch-core --test fuzz`: every file of the regression corpus
//!   (`fuzz-corpus/`) and a few thousand generated inputs per parser, from a fixed seed.
//! - `DISPATCH_FUZZ_ITERS=10000000 cargo test -p dispatch-core --release --test fuzz --
//!   --ignored --nocapture`: the long run (random seed, printed; `DISPATCH_FUZZ_SEED=…` repeats
//!   one). A failing input is printed shrunk; add it to the corpus.

mod fuzz {
    pub mod chat;
    pub mod filter;
}

use fuzz::{chat, filter};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn runner(cases: u32, seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Runs `check` on `cases` inputs of `strategy`; answers how many ran.
fn fuzz<S: Strategy>(name: &str, strategy: S, cases: u32, seed: u64, check: fn(&S::Value)) -> u64
where
    S::Value: std::fmt::Debug,
{
    let started = Instant::now();
    let ran = std::cell::Cell::new(0u64);
    let result = runner(cases, seed).run(&strategy, |input| {
        ran.set(ran.get() + 1);
        check(&input);
        Ok(())
    });
    let ran = ran.get();
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    eprintln!(
        "{name}: {ran} inputs, 0 failures, {:.1} s (seed {seed})",
        started.elapsed().as_secs_f64()
    );
    ran
}

fn corpus(dir: &str) -> Vec<(String, PathBuf)> {
    // The variable cargo sets when it runs the test, before the one compiled in: a test binary
    // reused from a shared target directory was compiled in another checkout.
    let manifest =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let root = Path::new(&manifest).join("fuzz-corpus").join(dir);
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|f| f.expect("a corpus entry").path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", root.display());
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every corpus file goes through its parser; a file named `refused-…` must be refused and one
/// named `ok-…` must read.
#[test]
fn every_file_of_the_regression_corpus_keeps_the_parsers_invariants() {
    let expect = |name: &str, ok: bool| {
        if name.starts_with("refused-") {
            assert!(!ok, "{name} reads");
        }
        if name.starts_with("ok-") {
            assert!(ok, "{name} does not read");
        }
    };
    for (name, path) in corpus("filter") {
        let text = read(&path);
        filter::check_text(&text);
        expect(&name, dispatch_core::filter::Filter::parse(&text).is_ok());
    }
    for (name, path) in corpus("filter-json") {
        let v: serde_json::Value =
            serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{name}: {e}"));
        filter::check_json(&v);
        expect(&name, dispatch_core::filter::Filter::from_json(&v).is_ok());
    }
    for (name, path) in corpus("chat") {
        let line = read(&path);
        chat::check(&line);
        expect(
            &name,
            dispatch_core::chat::parse(&line, chat::now()).is_ok(),
        );
    }
}

#[test]
fn generated_filter_texts_keep_the_invariants() {
    fuzz("filter text", filter::text(), 3_000, 1, |s| {
        filter::check_text(s)
    });
}

#[test]
fn generated_json_filters_keep_the_invariants() {
    fuzz(
        "filter JSON",
        filter::json_filter(),
        1_000,
        2,
        filter::check_json,
    );
}

#[test]
fn generated_chat_lines_keep_the_invariants() {
    fuzz("chat", chat::line(), 3_000, 3, |s| chat::check(s));
}

/// The long run: `DISPATCH_FUZZ_ITERS` inputs for each parser (the filter's split between its
/// text and JSON forms, nine to one: a JSON input costs several times a text one).
/// `DISPATCH_FUZZ_STAGES` (`text,json,chat` by default) picks the parts to run, so a long run can
/// be spread over processes with different seeds.
#[test]
#[ignore = "long: run in release with DISPATCH_FUZZ_ITERS"]
fn long_fuzz_run() {
    let env = |name: &str| std::env::var(name).ok();
    let iters: u32 = env("DISPATCH_FUZZ_ITERS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = env("DISPATCH_FUZZ_SEED")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
    let stages = env("DISPATCH_FUZZ_STAGES").unwrap_or_else(|| "text,json,chat".into());
    let run = |stage: &str| stages.split(',').any(|s| s.trim() == stage);
    let started = Instant::now();
    let (mut text, mut json, mut chat) = (0, 0, 0);
    if run("text") {
        text = fuzz("filter text", filter::text(), iters / 10 * 9, seed, |s| {
            filter::check_text(s)
        });
    }
    if run("json") {
        let n = iters - iters / 10 * 9;
        json = fuzz(
            "filter JSON",
            filter::json_filter(),
            n,
            seed ^ 1,
            filter::check_json,
        );
    }
    if run("chat") {
        chat = fuzz("chat", chat::line(), iters, seed ^ 2, |s| chat::check(s));
    }
    eprintln!(
        "fuzz total: filter {} ({text} text + {json} JSON), chat {chat}, 0 failures, {:.1} s",
        text + json,
        started.elapsed().as_secs_f64()
    );
}
