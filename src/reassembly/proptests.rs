//! Properties over random segmentations of a random stream: reordered, duplicated,
//! overlapping, dropped and truncated segments, any ISN (near 2^32 included).

use proptest::collection::vec;
use proptest::prelude::*;

use super::tests::{FIN, Got, NONE, SYN, own};
use super::*;

/// Any ISN, often one whose stream crosses 2^32.
fn isn() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        (0u32..4096).prop_map(|back| 0u32.wrapping_sub(back))
    ]
}

/// `(start, len)` segments covering `0..len` exactly once, plus extra copies of random ranges
/// (duplicates and overlaps), shuffled.
fn segments(len: usize) -> impl Strategy<Value = Vec<(usize, usize)>> {
    (vec(0..len, 0..24), vec((0..len, 1..300usize), 0..12)).prop_flat_map(move |(cuts, extra)| {
        let mut bounds: Vec<usize> = cuts.into_iter().chain([0, len]).collect();
        bounds.sort_unstable();
        bounds.dedup();
        let mut segs: Vec<(usize, usize)> =
            bounds.windows(2).map(|w| (w[0], w[1] - w[0])).collect();
        segs.extend(extra.into_iter().map(|(s, l)| (s, l.min(len - s))));
        Just(segs).prop_shuffle()
    })
}

fn stream() -> impl Strategy<Value = (Vec<u8>, u32, Vec<(usize, usize)>)> {
    (vec(any::<u8>(), 1..1500), isn()).prop_flat_map(|(data, isn)| {
        let len = data.len();
        (Just(data), Just(isn), segments(len))
    })
}

/// Checks that the chunks lay every data byte at its offset in `data` and cover `0..len`
/// with data and gaps; returns the gaps.
fn check_layout(data: &[u8], got: &[Got]) -> Result<u64, TestCaseError> {
    let mut pos = 0usize;
    let mut gaps = 0;
    for chunk in got {
        match chunk {
            Got::Data(bytes) => {
                prop_assert_eq!(Some(bytes.as_slice()), data.get(pos..pos + bytes.len()));
                pos += bytes.len();
            }
            Got::Gap(len, _) => {
                pos += *len as usize;
                gaps += len;
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
    prop_assert_eq!(pos, data.len());
    Ok(gaps)
}

proptest! {
    #[test]
    fn every_segment_fed_gives_back_the_stream(
        (data, isn, mut segs) in stream(),
        with_syn in any::<bool>(),
    ) {
        let mut hs = HalfStream::new(1 << 20, 4096);
        let mut got = Vec::new();
        if with_syn {
            hs.segment(isn, SYN, &[], 0, 0, &mut |c| got.push(own(c)));
        } else if let Some(first) = segs.iter().position(|s| s.0 == 0) {
            // Without a SYN the first segment seen starts the stream.
            segs.swap(0, first);
        }
        let first_seq = isn.wrapping_add(u32::from(with_syn));
        // Per delivered byte, the packet it came tagged with (packet i = segment i).
        let mut tags: Vec<u64> = Vec::new();
        for (i, &(start, len)) in segs.iter().enumerate() {
            let seq = first_seq.wrapping_add(start as u32);
            hs.segment(seq, NONE, &data[start..start + len], 0, i as u64, &mut |c| {
                if let Chunk::Data { bytes, packet } = c {
                    tags.extend(std::iter::repeat_n(packet, bytes.len()));
                }
                got.push(own(c));
            });
        }
        prop_assert_eq!(check_layout(&data, &got)?, 0);
        // Each byte is tagged with the first segment fed that covered it (the first copy).
        for (at, tag) in tags.iter().enumerate() {
            let first = segs.iter().position(|&(s, l)| s <= at && at < s + l);
            prop_assert_eq!(first, Some(*tag as usize), "byte {}", at);
        }
        prop_assert_eq!(hs.delivered(), data.len() as u64);
        prop_assert_eq!(hs.buffered_bytes(), 0);
    }

    #[test]
    fn with_segments_lost_data_and_gaps_add_up(
        ((data, isn, segs), fate) in stream().prop_flat_map(|s| {
            let n = s.2.len();
            // Per segment: dropped, and how many tail bytes the snap length cut.
            let fate = vec((prop::bool::weighted(0.3), prop_oneof![3 => Just(0usize), 1 => 1..40usize]), n);
            (Just(s), fate)
        }),
        fin_at in any::<prop::sample::Index>(),
        max_bytes in 0usize..2000,
        max_segments in 0usize..16,
    ) {
        let mut hs = HalfStream::new(max_bytes, max_segments);
        let mut got = Vec::new();
        hs.segment(isn, SYN, &[], 0, 0, &mut |c| got.push(own(c)));
        let fin_seq = isn.wrapping_add(1).wrapping_add(data.len() as u32);
        let fin_at = fin_at.index(segs.len() + 1);
        for (i, ((start, len), (dropped, cut))) in segs.into_iter().zip(fate).enumerate() {
            if i == fin_at {
                hs.segment(fin_seq, FIN, &[], 0, 0, &mut |c| got.push(own(c)));
            }
            if dropped {
                continue;
            }
            let seq = isn.wrapping_add(1).wrapping_add(start as u32);
            let kept = len - cut.min(len);
            let missing = (len - kept) as u32;
            hs.segment(seq, NONE, &data[start..start + kept], missing, 0, &mut |c| got.push(own(c)));
            prop_assert!(hs.buffered_bytes() <= max_bytes);
        }
        hs.segment(fin_seq, FIN, &[], 0, 0, &mut |c| got.push(own(c)));
        hs.finish(&mut |c| got.push(own(c)));
        prop_assert_eq!(got.pop(), Some(Got::Fin));
        check_layout(&data, &got)?;
        prop_assert_eq!(hs.delivered(), data.len() as u64);
        prop_assert!(hs.is_closed());
    }
}
