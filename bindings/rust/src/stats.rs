//! The device's counters, read from sysfs.

use std::fs;
use std::io;
use std::path::Path;

use crate::error::{Error, Result};
use crate::sys;

/// The counters and the ceiling under `/sys/class/misc/flakeid/`, as
/// libflakeid's `flakeid_get_stats()` reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// IDs handed out since the module loaded.
    pub ids_issued: u64,
    /// Wall-clock steps back the device rode out.
    pub clock_steps_back: u64,
    /// Milliseconds borrowed ahead of the wall clock.
    pub borrowed_ms: u64,
    /// Readers that slept for the clock.
    pub waits: u64,
    pub refills: u64,
    /// The ID clock minus the wall clock, in ms.
    pub ahead_ms: i64,
    /// The configuration generation.
    pub generation: u64,
    /// [`sys::UNTIL_NONE`], [`sys::UNTIL_FENCED`] (0) or a Unix ms.
    pub until_ms: u64,
    pub until_wait_ms: u32,
    /// Readers that waited at the ceiling.
    pub until_waits: u64,
    /// Reads refused: fenced or the wait over.
    pub until_refused: u64,
    /// VM restores and clones seen (each fenced the device).
    pub vm_forks: u64,
}

fn read_attr(dir: &Path, name: &str) -> Result<String> {
    match fs::read_to_string(dir.join(name)) {
        Ok(s) => Ok(s.strip_suffix('\n').unwrap_or(&s).to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !dir.exists() => Err(Error::NoDevice),
        Err(e) => Err(Error::Io(e)),
    }
}

fn bad(name: &str, v: &str) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("sysfs {}: not a number: {:?}", name, v),
    ))
}

// Digits only, as sysfs_emit("%llu") writes them: no sign, no spaces.
fn read_u64(dir: &Path, name: &str) -> Result<u64> {
    let v = read_attr(dir, name)?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(name, &v));
    }
    v.parse().map_err(|_| bad(name, &v))
}

fn read_i64(dir: &Path, name: &str) -> Result<i64> {
    let v = read_attr(dir, name)?;
    let digits = v.strip_prefix('-').unwrap_or(&v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(name, &v));
    }
    v.parse().map_err(|_| bad(name, &v))
}

/// The counters from a sysfs directory laid out as the module's
/// ([`sys::SYSFS_DIR`]); [`crate::Generator::stats`] reads the real one.
/// A module from before the ceiling has no `until_ms`: then there is no
/// ceiling and its counters read 0.
pub fn stats_from(dir: &Path) -> Result<Stats> {
    let mut s = Stats {
        ids_issued: read_u64(dir, "ids_issued")?,
        clock_steps_back: read_u64(dir, "clock_steps_back")?,
        borrowed_ms: read_u64(dir, "borrowed_ms")?,
        waits: read_u64(dir, "waits")?,
        refills: read_u64(dir, "refills")?,
        ahead_ms: read_i64(dir, "ahead_ms")?,
        generation: read_u64(dir, "generation")?,
        until_ms: sys::UNTIL_NONE,
        ..Stats::default()
    };
    match read_attr(dir, "until_ms") {
        Ok(v) if v == "none" => {}
        Ok(_) => s.until_ms = read_u64(dir, "until_ms")?,
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(s),
        Err(e) => return Err(e),
    }
    let wait = read_u64(dir, "until_wait_ms")?;
    s.until_wait_ms = u32::try_from(wait).map_err(|_| bad("until_wait_ms", &wait.to_string()))?;
    s.until_waits = read_u64(dir, "until_waits")?;
    s.until_refused = read_u64(dir, "until_refused")?;
    s.vm_forks = read_u64(dir, "vm_forks")?;
    Ok(s)
}
