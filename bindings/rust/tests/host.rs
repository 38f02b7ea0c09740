//! Without the device: a missing node, and the sysfs parser on a made-up
//! directory.

use std::fs;

use flakeid::{stats_from, sys, Error, Generator};

#[test]
fn missing_node_is_no_device() {
    let e = Generator::open_path("/nonexistent/flakeid").unwrap_err();
    assert!(matches!(e, Error::NoDevice), "{:?}", e);
    assert!(e.to_string().contains("no flakeid device"));
    if !std::path::Path::new(sys::DEVICE_PATH).exists() {
        assert!(matches!(Generator::open(), Err(Error::NoDevice)));
    }
}

fn fake_sysfs(files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flakeid-rs-sysfs-{}-{}", std::process::id(), files.len()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for (n, v) in files {
        fs::write(dir.join(n), v).unwrap();
    }
    dir
}

const BASE: [(&str, &str); 7] = [
    ("ids_issued", "12345\n"),
    ("clock_steps_back", "2\n"),
    ("borrowed_ms", "7\n"),
    ("waits", "1\n"),
    ("refills", "99\n"),
    ("ahead_ms", "-3\n"),
    ("generation", "4\n"),
];

#[test]
fn stats_from_sysfs() {
    let mut files = BASE.to_vec();
    files.extend([
        ("until_ms", "0\n"),
        ("until_wait_ms", "1000\n"),
        ("until_waits", "5\n"),
        ("until_refused", "6\n"),
        ("vm_forks", "1\n"),
    ]);
    let dir = fake_sysfs(&files);
    let s = stats_from(&dir).unwrap();
    assert_eq!((s.ids_issued, s.clock_steps_back, s.borrowed_ms, s.waits, s.refills), (12345, 2, 7, 1, 99));
    assert_eq!((s.ahead_ms, s.generation, s.until_ms, s.until_wait_ms), (-3, 4, 0, 1000));
    assert_eq!((s.until_waits, s.until_refused, s.vm_forks), (5, 6, 1));
    fs::write(dir.join("until_ms"), "none\n").unwrap();
    assert_eq!(stats_from(&dir).unwrap().until_ms, sys::UNTIL_NONE);
    fs::write(dir.join("waits"), "1x\n").unwrap();
    assert!(matches!(stats_from(&dir), Err(Error::Io(_))));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stats_from_a_module_without_the_ceiling() {
    let dir = fake_sysfs(&BASE);
    let s = stats_from(&dir).unwrap();
    assert_eq!((s.ids_issued, s.until_ms, s.vm_forks), (12345, sys::UNTIL_NONE, 0));
    fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(stats_from(&dir), Err(Error::NoDevice)));
}

#[test]
fn generator_is_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Generator>();
    both::<Error>();
}

#[test]
fn errors_convert() {
    let e: Error = std::io::Error::from_raw_os_error(sys::EKEYEXPIRED).into();
    assert!(matches!(e, Error::Fenced));
    let e: Error = std::io::Error::from_raw_os_error(sys::EOVERFLOW).into();
    assert!(matches!(e, Error::Overflow));
    let e: Error = std::io::Error::from_raw_os_error(5).into();
    assert!(matches!(e, Error::Io(_)));
    assert!(std::error::Error::source(&e).is_some());
    let io: std::io::Error = Error::NoDevice.into();
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
}
