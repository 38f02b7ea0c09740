//! A fenced device refuses with Error::Fenced.  Needs root and the module;
//! returns early, saying so, without them.  Its own test binary: fencing
//! the device would fail any test running beside it.

use std::fs;
use std::path::{Path, PathBuf};

use flakeid::{sys, Error, Generator};

/// Puts until_ms back however the test ends.
struct Restore(PathBuf, String);

impl Drop for Restore {
    fn drop(&mut self) {
        fs::write(&self.0, &self.1).expect("restore until_ms");
    }
}

#[test]
fn fenced_device_refuses() {
    let until = Path::new(sys::SYSFS_DIR).join("until_ms");
    if !Path::new(sys::DEVICE_PATH).exists() || !until.exists() {
        eprintln!("skip: no {} or no until_ms", sys::DEVICE_PATH);
        return;
    }
    let old = fs::read_to_string(&until).unwrap();
    let gen = Generator::open().unwrap();
    let before = gen.generate().unwrap();
    if let Err(e) = fs::write(&until, "0\n") {
        eprintln!("skip: cannot fence ({}): not root?", e);
        return;
    }
    let _restore = Restore(until.clone(), old.clone());
    assert!(gen.config().unwrap().fenced());
    assert!(matches!(gen.generate(), Err(Error::Fenced)));
    assert!(matches!(gen.generate_batch(10), Err(Error::Fenced)));
    assert!(matches!(gen.ids().next(), Some(Err(Error::Fenced))));
    assert_eq!(gen.stats().unwrap().until_ms, sys::UNTIL_FENCED);
    drop(_restore);
    assert_eq!(fs::read_to_string(&until).unwrap(), old);
    assert!(gen.generate().unwrap() > before);
}
