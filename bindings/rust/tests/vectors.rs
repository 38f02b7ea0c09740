//! decode_with() against bindings/testdata/decode.tsv, the vectors every
//! decoder of the project shares.  Embedded at build time, so the test
//! binary carries them into the guest.

use flakeid::{decode_with, Config, Error};

const TSV: &str = include_str!("../../testdata/decode.tsv");

#[test]
fn every_decode_vector() {
    let (mut good, mut invalid) = (0, 0);
    for (n, line) in TSV.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let at = format!("decode.tsv line {}: {}", n + 1, line);
        let epoch: u64 = f[0].parse().expect(&at);
        let cfg = Config::with_layout(epoch, f[1]).expect(&at);
        let id: u64 = f[2].parse().expect(&at);
        let got = decode_with(&cfg, id);
        if f[3] == "invalid" {
            assert_eq!(f.len(), 4, "{}", at);
            assert!(matches!(got, Err(Error::InvalidId)), "{}: got {:?}", at, got);
            invalid += 1;
            continue;
        }
        assert_eq!(f.len(), 9, "{}", at);
        let d = got.unwrap_or_else(|e| panic!("{}: {}", at, e));
        let want: Vec<u64> = f[3..].iter().map(|s| s.parse().expect(&at)).collect();
        let have = [
            d.unix_ms,
            d.timestamp_ms,
            d.region_id as u64,
            d.app_id as u64,
            d.machine_id as u64,
            d.sequence as u64,
        ];
        assert_eq!(&have[..], &want[..], "{}", at);
        let since = d.timestamp.duration_since(std::time::UNIX_EPOCH).expect(&at);
        assert_eq!(since.as_millis(), d.unix_ms as u128, "{}", at);
        good += 1;
    }
    assert!(good >= 100 && invalid >= 6, "{} rows, {} invalid", good, invalid);
}

#[test]
fn bad_layouts_refused() {
    for l in ["", "41:4:3:5", "41:4:3:5:10:1", "40:4:3:5:0", "0:4:3:5:10", "41:4:3:5:12", "a:4:3:5:10"] {
        assert!(Config::with_layout(0, l).is_none(), "{}", l);
    }
    assert_eq!(Config::with_layout(5, "41:4:3:5:10").unwrap().layout(), "41:4:3:5:10");
    assert_eq!(Config::default(), Config::with_layout(1_704_067_200_000, "41:4:3:5:10").unwrap());
}

#[test]
fn unix_ms_past_u64_is_overflow() {
    let cfg = Config::with_layout(u64::MAX - 5, "48:0:0:0:16").unwrap();
    assert_eq!(decode_with(&cfg, 5 << 16).unwrap().unix_ms, u64::MAX);
    assert!(matches!(decode_with(&cfg, 6 << 16), Err(Error::Overflow)));
}
