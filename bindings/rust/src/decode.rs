//! The device's configuration and the split of an ID into its fields.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::sys;

/// The device's configuration, as `FLAKEID_IOC_CONFIG` reports it.
///
/// Only `epoch_ms` and the five widths matter to [`decode_with`]; a
/// `Config` built by hand for it may leave the rest at their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The epoch, in Unix milliseconds.
    pub epoch_ms: u64,
    pub timestamp_bits: u32,
    pub region_bits: u32,
    pub app_bits: u32,
    pub machine_bits: u32,
    pub sequence_bits: u32,
    /// The node ids this host puts in its IDs.
    pub region_id: u32,
    pub app_id: u32,
    pub machine_id: u32,
    /// How far ahead of the wall clock the device may borrow, in ms.
    pub max_borrow_ms: u32,
    /// A millisecond at or after the timestamp of every ID issued so far.
    pub floor_ms: u64,
    /// Increases by one on every accepted configuration change.
    pub generation: u64,
    /// The timestamp ceiling: [`sys::UNTIL_NONE`], a Unix ms, or
    /// [`sys::UNTIL_FENCED`] (0).
    pub until_ms: u64,
    /// VM restores and clones the module saw.
    pub vm_forks: u64,
}

impl Default for Config {
    /// The module's defaults: epoch 2024-01-01T00:00:00Z, layout
    /// 41:4:3:5:10, node ids 0, no ceiling.
    fn default() -> Config {
        Config {
            epoch_ms: sys::DEFAULT_EPOCH_MS,
            timestamp_bits: 41,
            region_bits: 4,
            app_bits: 3,
            machine_bits: 5,
            sequence_bits: 10,
            region_id: 0,
            app_id: 0,
            machine_id: 0,
            max_borrow_ms: 1000,
            floor_ms: 0,
            generation: 0,
            until_ms: sys::UNTIL_NONE,
            vm_forks: 0,
        }
    }
}

impl Config {
    /// A configuration for [`decode_with`]: an epoch and a layout written
    /// `T:R:A:M:S` as sysfs and the module parameter take it.  `None` when
    /// the layout is not five numbers summing to at most 64 with a
    /// timestamp and a sequence field.
    pub fn with_layout(epoch_ms: u64, layout: &str) -> Option<Config> {
        let mut w = [0u32; 5];
        let mut parts = layout.trim().split(':');
        for slot in w.iter_mut() {
            *slot = parts.next()?.parse().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        let c = Config {
            epoch_ms,
            timestamp_bits: w[0],
            region_bits: w[1],
            app_bits: w[2],
            machine_bits: w[3],
            sequence_bits: w[4],
            ..Config::default()
        };
        c.layout_ok().then(|| c)
    }

    /// The layout as `T:R:A:M:S`.
    pub fn layout(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.timestamp_bits, self.region_bits, self.app_bits, self.machine_bits, self.sequence_bits
        )
    }

    fn widths(&self) -> [u32; 5] {
        [self.timestamp_bits, self.region_bits, self.app_bits, self.machine_bits, self.sequence_bits]
    }

    fn layout_ok(&self) -> bool {
        let w = self.widths();
        w.iter().all(|&b| b <= 64)
            && w.iter().sum::<u32>() <= 64
            && self.timestamp_bits >= 1
            && self.sequence_bits >= 1
    }

    pub(crate) fn from_sys(c: &sys::Config) -> Config {
        Config {
            epoch_ms: c.epoch_ms,
            timestamp_bits: c.timestamp_bits,
            region_bits: c.region_bits,
            app_bits: c.app_bits,
            machine_bits: c.machine_bits,
            sequence_bits: c.sequence_bits,
            region_id: c.region_id,
            app_id: c.app_id,
            machine_id: c.machine_id,
            max_borrow_ms: c.max_borrow_ms,
            floor_ms: c.floor_ms,
            generation: c.generation,
            until_ms: c.until_ms,
            vm_forks: c.vm_forks,
        }
    }

    /// Whether the device is fenced (`until_ms` is 0).
    pub fn fenced(&self) -> bool {
        self.until_ms == sys::UNTIL_FENCED
    }
}

/// An ID split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// When the ID was made (its millisecond, UTC).
    pub timestamp: SystemTime,
    /// The same, in milliseconds since 1970-01-01 UTC.
    pub unix_ms: u64,
    /// The raw timestamp field: milliseconds since the epoch.
    pub timestamp_ms: u64,
    pub region_id: u32,
    pub app_id: u32,
    pub machine_id: u32,
    pub sequence: u32,
}

impl Decoded {
    pub(crate) fn new(
        unix_ms: u64,
        timestamp_ms: u64,
        region_id: u32,
        app_id: u32,
        machine_id: u32,
        sequence: u32,
    ) -> Result<Decoded> {
        let timestamp = UNIX_EPOCH
            .checked_add(Duration::from_millis(unix_ms))
            .ok_or(Error::Overflow)?;
        Ok(Decoded { timestamp, unix_ms, timestamp_ms, region_id, app_id, machine_id, sequence })
    }
}

fn field(id: u64, shift: u32, bits: u32) -> u64 {
    if bits == 0 || shift >= 64 {
        return 0;
    }
    let v = id >> shift;
    if bits >= 64 {
        v
    } else {
        v & ((1u64 << bits) - 1)
    }
}

/// Splits `id` under `cfg`'s epoch and layout, without the device.  Agrees
/// with `FLAKEID_IOC_DECODE` and libflakeid's `flakeid_decode_with()` (the
/// vectors in `bindings/testdata/decode.tsv`).
///
/// [`Error::InvalidId`] when `id` has bits set above the layout;
/// [`Error::Overflow`] when epoch plus timestamp passes 2^64 - 1 ms;
/// an [`Error::Io`] of kind `InvalidInput` when `cfg`'s layout is not one.
pub fn decode_with(cfg: &Config, id: u64) -> Result<Decoded> {
    if !cfg.layout_ok() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a layout: {}", cfg.layout()),
        )));
    }
    let total: u32 = cfg.widths().iter().sum();
    if total < 64 && id >> total != 0 {
        return Err(Error::InvalidId);
    }
    let s = cfg.sequence_bits;
    let m = s + cfg.machine_bits;
    let a = m + cfg.app_bits;
    let r = a + cfg.region_bits;
    let ts = field(id, r, cfg.timestamp_bits);
    let unix_ms = cfg.epoch_ms.checked_add(ts).ok_or(Error::Overflow)?;
    // Each field but the timestamp is at most 64 - 1 - 1 bits wide; the
    // kernel's are u32, so a layout with a wider one cannot be the device's.
    let narrow = |v: u64| u32::try_from(v).map_err(|_| Error::Overflow);
    Decoded::new(
        unix_ms,
        ts,
        narrow(field(id, a, cfg.region_bits))?,
        narrow(field(id, m, cfg.app_bits))?,
        narrow(field(id, s, cfg.machine_bits))?,
        narrow(field(id, 0, cfg.sequence_bits))?,
    )
}
