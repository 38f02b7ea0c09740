//! The crate's error type.

use std::fmt;
use std::io;

use crate::sys;

/// Everything a call into this crate can fail with.
#[derive(Debug)]
pub enum Error {
    /// There is no `/dev/flakeid` (the module is not loaded).
    NoDevice,
    /// The device issues nothing now (`EKEYEXPIRED`): it is fenced
    /// (`until_ms` is 0: an operator, a lease agent, or a VM restore or
    /// clone stopped it), or its next ID would pass the ceiling `until_ms`
    /// and the ceiling was not raised in time.
    Fenced,
    /// The ID has bits set above the layout it is decoded with (`EINVAL`
    /// from `FLAKEID_IOC_DECODE`).
    InvalidId,
    /// The timestamp field is used up (`EOVERFLOW`): no ID can be issued
    /// under this epoch and layout; or a decoded time does not fit.
    Overflow,
    /// Any other failure of the device or of sysfs.
    Io(io::Error),
}

impl Error {
    /// The error for a failed device call: the errnos the uapi documents
    /// become their variants, anything else stays an `Io`.
    pub(crate) fn from_device(e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(sys::EKEYEXPIRED) => Error::Fenced,
            Some(sys::EOVERFLOW) => Error::Overflow,
            _ => Error::Io(e),
        }
    }

    /// The error for a failed open of the device node.
    pub(crate) fn from_open(e: io::Error) -> Error {
        match e.raw_os_error() {
            Some(sys::ENOENT) | Some(sys::ENODEV) | Some(sys::ENXIO) => Error::NoDevice,
            _ => Error::Io(e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoDevice => write!(f, "no flakeid device (is the module loaded?)"),
            Error::Fenced => write!(f, "flakeid device fenced or at its ceiling (until_ms)"),
            Error::InvalidId => write!(f, "ID has bits set above the layout"),
            Error::Overflow => write!(f, "timestamp field used up"),
            Error::Io(e) => write!(f, "flakeid: {}", e),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::from_device(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Io(e) => e,
            Error::NoDevice => io::Error::new(io::ErrorKind::NotFound, e),
            Error::InvalidId => io::Error::new(io::ErrorKind::InvalidInput, e),
            Error::Fenced | Error::Overflow => io::Error::new(io::ErrorKind::Other, e),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
