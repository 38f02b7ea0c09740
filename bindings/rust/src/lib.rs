//! Unique, time-ordered 64-bit IDs from the flakeid kernel module.
//!
//! The module hands out Snowflake-style IDs through `/dev/flakeid`: every
//! process on the host shares one generator, so no two IDs are equal and
//! the IDs one open file returns strictly increase.  This crate is a thin
//! layer over the device: `read(2)` for one ID, the `FLAKEID_IOC_BATCH`,
//! `FLAKEID_IOC_DECODE` and `FLAKEID_IOC_CONFIG` ioctls, and sysfs for the
//! counters.  It uses only `std`.
//!
//! ```no_run
//! let gen = flakeid::Generator::open()?;
//! let id = gen.generate()?;
//! let parts = gen.decode(id)?;
//! println!("{} machine {} seq {}", id, parts.machine_id, parts.sequence);
//! let more = gen.generate_batch(1000)?;
//! assert!(more.windows(2).all(|w| w[0] < w[1]));
//! # Ok::<(), flakeid::Error>(())
//! ```
//!
//! Decoding needs no device when the layout is known: [`decode_with`].

mod decode;
mod error;
mod stats;
pub mod sys;

use std::fs::File;
use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

pub use decode::{decode_with, Config, Decoded};
pub use error::{Error, Result};
pub use stats::{stats_from, Stats};

/// An open `/dev/flakeid`.
///
/// `Generator` is `Send` and `Sync`: threads may share one (by reference
/// or in an `Arc`); the device serializes them, and every ID is unique
/// across threads and processes.  IDs one `Generator` returns strictly
/// increase, whichever thread asked.
#[derive(Debug)]
pub struct Generator {
    file: File,
    sysfs: PathBuf,
}

impl Generator {
    /// Opens [`sys::DEVICE_PATH`].  [`Error::NoDevice`] when the module is
    /// not loaded.
    pub fn open() -> Result<Generator> {
        Generator::open_path(sys::DEVICE_PATH)
    }

    /// Opens another node of the device (a container's bind mount, say).
    /// [`Generator::stats`] still reads [`sys::SYSFS_DIR`].
    pub fn open_path<P: AsRef<Path>>(path: P) -> Result<Generator> {
        let file = File::open(path).map_err(Error::from_open)?;
        Ok(Generator { file, sysfs: PathBuf::from(sys::SYSFS_DIR) })
    }

    /// One ID.  [`Error::Fenced`] when the device may not issue now,
    /// [`Error::Overflow`] when the timestamp field is used up.
    pub fn generate(&self) -> Result<u64> {
        let mut buf = [0u8; 8];
        // read_exact retries EINTR; the device never returns part of an ID.
        (&self.file).read_exact(&mut buf)?;
        Ok(u64::from_ne_bytes(buf))
    }

    /// `n` IDs, strictly increasing, with as few `FLAKEID_IOC_BATCH` calls
    /// as the device allows (it may return fewer than asked, at most
    /// [`sys::BATCH_MAX`] a call).  On an error the IDs already fetched
    /// are dropped: they are never issued again either way.
    pub fn generate_batch(&self, n: usize) -> Result<Vec<u64>> {
        let mut ids: Vec<u64> = Vec::with_capacity(n);
        while ids.len() < n {
            let want = std::cmp::min((n - ids.len()) as u64, sys::BATCH_MAX);
            let got = self.batch_into(ids.spare_capacity_mut().as_mut_ptr() as *mut u64, want)?;
            // SAFETY: the kernel wrote `got` <= `want` IDs into the spare room.
            unsafe { ids.set_len(ids.len() + got as usize) };
        }
        Ok(ids)
    }

    fn batch_into(&self, dst: *mut u64, count: u64) -> Result<u64> {
        let mut b = sys::Batch {
            size: std::mem::size_of::<sys::Batch>() as u32,
            flags: 0,
            count,
            ids: dst as u64,
            reserved: 0,
        };
        self.ioctl(sys::IOC_BATCH, &mut b as *mut sys::Batch as *mut u8)?;
        if b.count > count {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "FLAKEID_IOC_BATCH returned more IDs than asked",
            )));
        }
        Ok(b.count)
    }

    fn ioctl(&self, req: std::os::raw::c_ulong, arg: *mut u8) -> Result<()> {
        loop {
            // SAFETY: `arg` points to the struct `req` names, with `size`
            // set; any user pointer in it has room for what it asks.
            let r = unsafe { sys::ioctl(self.file.as_raw_fd(), req, arg) };
            if r >= 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::from_device(e));
            }
        }
    }

    /// Splits `id` under the device's current configuration
    /// (`FLAKEID_IOC_DECODE`).  [`Error::InvalidId`] when `id` has bits
    /// set above the layout.
    pub fn decode(&self, id: u64) -> Result<Decoded> {
        let mut d = sys::Decode {
            size: std::mem::size_of::<sys::Decode>() as u32,
            id,
            ..Default::default()
        };
        match self.ioctl(sys::IOC_DECODE, &mut d as *mut sys::Decode as *mut u8) {
            Err(Error::Io(e)) if e.raw_os_error() == Some(sys::EINVAL) => Err(Error::InvalidId),
            Err(e) => Err(e),
            Ok(()) => Decoded::new(d.unix_ms, d.timestamp, d.region_id, d.app_id, d.machine_id, d.sequence),
        }
    }

    /// The device's configuration (`FLAKEID_IOC_CONFIG`).
    pub fn config(&self) -> Result<Config> {
        let mut c = sys::Config {
            size: std::mem::size_of::<sys::Config>() as u32,
            ..Default::default()
        };
        self.ioctl(sys::IOC_CONFIG, &mut c as *mut sys::Config as *mut u8)?;
        Ok(Config::from_sys(&c))
    }

    /// The device's counters, from sysfs.
    pub fn stats(&self) -> Result<Stats> {
        stats_from(&self.sysfs)
    }

    /// An endless iterator of IDs, fetched 64 at a time; it yields the
    /// error, then goes on trying, if the device refuses.
    pub fn ids(&self) -> Ids<'_> {
        Ids { gen: self, buf: Vec::new(), pos: 0 }
    }
}

impl<'a> IntoIterator for &'a Generator {
    type Item = Result<u64>;
    type IntoIter = Ids<'a>;
    fn into_iter(self) -> Ids<'a> {
        self.ids()
    }
}

/// The iterator [`Generator::ids`] returns.
#[derive(Debug)]
pub struct Ids<'a> {
    gen: &'a Generator,
    buf: Vec<u64>,
    pos: usize,
}

impl Iterator for Ids<'_> {
    type Item = Result<u64>;
    fn next(&mut self) -> Option<Result<u64>> {
        if self.pos == self.buf.len() {
            match self.gen.generate_batch(64) {
                Ok(v) => {
                    self.buf = v;
                    self.pos = 0;
                }
                Err(e) => return Some(Err(e)),
            }
        }
        self.pos += 1;
        Some(Ok(self.buf[self.pos - 1]))
    }
}
