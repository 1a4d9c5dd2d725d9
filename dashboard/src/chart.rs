//! Geometry of the inline SVG bar charts (block interval, transactions per block).

/// One bar: x, y (top), width, height in the chart's user units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// Bars for `values` filling a `width` × `height` box, left to right, scaled to the largest
/// value (a flat series of zeros gives zero-height bars). Returns the bars and the scale max.
pub fn bars(values: &[u64], width: f64, height: f64) -> (Vec<Bar>, u64) {
    let max = values.iter().copied().max().unwrap_or(0);
    if values.is_empty() {
        return (Vec::new(), max);
    }
    let slot = width / values.len() as f64;
    let gap = (slot * 0.2).min(2.0);
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let h = if max == 0 {
                0.0
            } else {
                height * v as f64 / max as f64
            };
            Bar {
                x: i as f64 * slot + gap / 2.0,
                y: height - h,
                w: (slot - gap).max(0.5),
                h,
            }
        })
        .collect();
    (bars, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value() {
        let (b, max) = bars(&[0, 5, 10], 30.0, 20.0);
        assert_eq!(max, 10);
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].h, b[1].h, b[2].h), (0.0, 10.0, 20.0));
        assert_eq!((b[2].y, b[1].y), (0.0, 10.0));
        assert!(b[1].x > b[0].x && b[2].x + b[2].w <= 30.0);
        let (empty, m) = bars(&[], 10.0, 10.0);
        assert!(empty.is_empty());
        assert_eq!(m, 0);
        let (flat, _) = bars(&[0, 0], 10.0, 10.0);
        assert!(flat.iter().all(|b| b.h == 0.0));
    }
}
