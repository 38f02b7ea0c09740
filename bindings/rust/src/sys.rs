//! The kernel interface, transcribed from `uapi/linux/flakeid.h`: the ioctl
//! structs and numbers, and the libc calls this crate makes.  Nothing here
//! is needed to use the crate; it is public for tests and for callers that
//! want the raw structs.

use std::os::raw::{c_int, c_ulong};

/// The device node the IDs come from.
pub const DEVICE_PATH: &str = "/dev/flakeid";
/// The device's configuration and counters.
pub const SYSFS_DIR: &str = "/sys/class/misc/flakeid";

pub const DEFAULT_EPOCH_MS: u64 = 1_704_067_200_000;
/// `until_ms` when there is no ceiling.
pub const UNTIL_NONE: u64 = u64::MAX;
/// `until_ms` of a fenced device.
pub const UNTIL_FENCED: u64 = 0;
/// Most IDs one `FLAKEID_IOC_BATCH` call returns.
pub const BATCH_MAX: u64 = 1 << 20;
pub const BATCH_NONBLOCK: u32 = 0x1;

pub const IOC_TYPE: u32 = 0xB9;

/// `struct flakeid_batch`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Batch {
    pub size: u32,
    pub flags: u32,
    pub count: u64,
    pub ids: u64,
    pub reserved: u64,
}

/// `struct flakeid_decode`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Decode {
    pub size: u32,
    pub flags: u32,
    pub id: u64,
    pub unix_ms: u64,
    pub timestamp: u64,
    pub region_id: u32,
    pub app_id: u32,
    pub machine_id: u32,
    pub sequence: u32,
    pub reserved: u64,
}

/// `struct flakeid_config`
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct Config {
    pub size: u32,
    pub flags: u32,
    pub epoch_ms: u64,
    pub timestamp_bits: u32,
    pub region_bits: u32,
    pub app_bits: u32,
    pub machine_bits: u32,
    pub sequence_bits: u32,
    pub region_id: u32,
    pub app_id: u32,
    pub machine_id: u32,
    pub max_borrow_ms: u32,
    pub reserved0: u32,
    pub floor_ms: u64,
    pub generation: u64,
    pub until_ms: u64,
    pub vm_forks: u64,
}

/// `_IOWR(type, nr, size)` as `<asm-generic/ioctl.h>` builds it on x86,
/// arm, riscv and the other architectures with 2 direction bits.
pub const fn iowr(ty: u32, nr: u32, size: usize) -> c_ulong {
    const IOC_READ: u32 = 2;
    const IOC_WRITE: u32 = 1;
    (((IOC_READ | IOC_WRITE) << 30) | ((size as u32) << 16) | (ty << 8) | nr) as c_ulong
}

pub const IOC_BATCH: c_ulong = iowr(IOC_TYPE, 0x01, std::mem::size_of::<Batch>());
pub const IOC_DECODE: c_ulong = iowr(IOC_TYPE, 0x02, std::mem::size_of::<Decode>());
pub const IOC_CONFIG: c_ulong = iowr(IOC_TYPE, 0x03, std::mem::size_of::<Config>());

// Linux errno values (the same on every architecture Rust's std supports
// for Linux except mips/sparc/alpha, which flakeid does not target).
pub const ENOENT: i32 = 2;
pub const ENXIO: i32 = 6;
pub const ENODEV: i32 = 19;
pub const EINVAL: i32 = 22;
pub const EOVERFLOW: i32 = 75;
pub const EKEYEXPIRED: i32 = 127;

extern "C" {
    /// libc's ioctl(2); std links libc, so no crate is needed for it.
    pub fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
}
