//! Against a loaded module: each test returns early, saying so, when
//! /dev/flakeid is absent (the host).  The guest runs them for real.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use flakeid::{decode_with, sys, Config, Error, Generator};

fn device() -> Option<Generator> {
    if !Path::new(sys::DEVICE_PATH).exists() {
        eprintln!("skip: no {}", sys::DEVICE_PATH);
        return None;
    }
    Some(Generator::open().expect("open /dev/flakeid"))
}

fn same(gen: &Generator, cfg: &Config, id: u64) {
    let k = gen.decode(id);
    let u = decode_with(cfg, id);
    match (&k, &u) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "id {}", id),
        (Err(Error::InvalidId), Err(Error::InvalidId)) => {}
        _ => panic!("id {}: kernel {:?}, decode_with {:?}", id, k, u),
    }
}

#[test]
fn decode_agrees_with_the_kernel() {
    let gen = match device() {
        Some(g) => g,
        None => return,
    };
    let cfg = gen.config().unwrap();
    for id in gen.generate_batch(1000).unwrap() {
        same(&gen, &cfg, id);
        let d = gen.decode(id).unwrap();
        assert_eq!((d.region_id, d.app_id, d.machine_id), (cfg.region_id, cfg.app_id, cfg.machine_id));
    }
    let total = cfg.timestamp_bits + cfg.region_bits + cfg.app_bits + cfg.machine_bits + cfg.sequence_bits;
    let mut edge = vec![0, 1, u64::MAX, 1 << 63, (1 << 63) - 1];
    if total < 64 {
        edge.extend([(1u64 << total) - 1, 1 << total, (1 << total) + 1]);
    }
    // A fixed pseudo-random walk over the whole 64-bit range.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        edge.push(x);
        edge.push(x >> (64 - total.max(1)));
    }
    for id in edge {
        same(&gen, &cfg, id);
    }
    // The shared vectors made under the device's epoch and layout.
    let mut rows = 0;
    for line in include_str!("../../testdata/decode.tsv").lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if line.starts_with('#') || f.len() < 4 {
            continue;
        }
        if f[0].parse() == Ok(cfg.epoch_ms) && f[1] == cfg.layout() {
            same(&gen, &cfg, f[2].parse().unwrap());
            rows += 1;
        }
    }
    // The guest reloads the module with each epoch and layout of the file
    // and names them: then every row of that group must have been checked.
    if let Ok(layout) = std::env::var("FLAKEID_TEST_LAYOUT") {
        assert_eq!(layout, cfg.layout());
        assert!(rows > 0, "no decode.tsv row under {} epoch {}", layout, cfg.epoch_ms);
    }
}

/// Run by the guest with the module loaded with a 32-bit timestamp field
/// already used up (FLAKEID_TEST_OVERFLOW=1): every call is Overflow.
#[test]
fn used_up_timestamp_is_overflow() {
    if std::env::var_os("FLAKEID_TEST_OVERFLOW").is_none() {
        eprintln!("skip: FLAKEID_TEST_OVERFLOW not set (the guest sets it after using up the timestamp)");
        return;
    }
    let gen = device().expect("/dev/flakeid");
    assert!(matches!(gen.generate(), Err(Error::Overflow)));
    assert!(matches!(gen.generate_batch(5), Err(Error::Overflow)));
}

#[test]
fn ten_thousand_distinct_increasing() {
    let gen = match device() {
        Some(g) => g,
        None => return,
    };
    let mut last = 0;
    let mut seen = HashSet::new();
    for _ in 0..10_000 {
        let id = gen.generate().unwrap();
        assert!(id > last, "{} after {}", id, last);
        assert!(seen.insert(id));
        last = id;
    }
}

#[test]
fn hundred_threads_thousand_each_distinct() {
    let gen = match device() {
        Some(g) => Arc::new(g),
        None => return,
    };
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let gen = Arc::clone(&gen);
            std::thread::spawn(move || (0..1000).map(|_| gen.generate().unwrap()).collect::<Vec<u64>>())
        })
        .collect();
    let mut all = HashSet::new();
    for h in handles {
        let ids = h.join().unwrap();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        all.extend(ids);
    }
    assert_eq!(all.len(), 100_000);
}

#[test]
fn batch_strictly_increasing() {
    let gen = match device() {
        Some(g) => g,
        None => return,
    };
    assert!(gen.generate_batch(0).unwrap().is_empty());
    let first = gen.generate().unwrap();
    let ids = gen.generate_batch(50_000).unwrap();
    assert_eq!(ids.len(), 50_000);
    assert!(ids[0] > first);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(gen.generate().unwrap() > ids[ids.len() - 1]);
}

#[test]
fn iterator_yields_increasing_ids() {
    let gen = match device() {
        Some(g) => g,
        None => return,
    };
    let ids: Vec<u64> = gen.ids().take(1000).collect::<Result<_, _>>().unwrap();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let more: Vec<u64> = (&gen).into_iter().take(3).map(Result::unwrap).collect();
    assert!(more[0] > ids[999]);
}

#[test]
fn bad_id_is_invalid() {
    let gen = match device() {
        Some(g) => g,
        None => return,
    };
    let cfg = gen.config().unwrap();
    let total = cfg.timestamp_bits + cfg.region_bits + cfg.app_bits + cfg.machine_bits + cfg.sequence_bits;
    if total == 64 {
        eprintln!("skip: a 64-bit layout has no invalid ID");
        return;
    }
    assert!(matches!(gen.decode(u64::MAX), Err(Error::InvalidId)));
    assert!(matches!(gen.decode(1 << total), Err(Error::InvalidId)));
}

#[test]
fn config_and_stats_agree_with_sysfs() {
    let gen = match device() {
        Some(g) => g,
        None => return,
    };
    let sysfs = |n: &str| std::fs::read_to_string(Path::new(sys::SYSFS_DIR).join(n)).unwrap();
    let cfg = gen.config().unwrap();
    assert_eq!(sysfs("layout").trim(), cfg.layout());
    assert_eq!(sysfs("epoch_ms").trim(), cfg.epoch_ms.to_string());
    assert_eq!(sysfs("machine_id").trim(), cfg.machine_id.to_string());
    let before = gen.stats().unwrap();
    gen.generate_batch(100).unwrap();
    let after = gen.stats().unwrap();
    assert!(after.ids_issued >= before.ids_issued + 100, "{:?} -> {:?}", before, after);
    assert_eq!(after.generation, cfg.generation);
}
