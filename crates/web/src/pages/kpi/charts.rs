//! The dashboard's charts, drawn on the server as SVG: they print, need no script and no
//! network (the product works offline). Each function takes plain numbers and labels and
//! returns the SVG text; labels are escaped here.

use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A small trend line (no axes) of `points` (None = no data that bucket), in a `w`×`h` box.
pub fn sparkline(points: &[Option<f64>], w: f64, h: f64) -> String {
    let vals: Vec<f64> = points.iter().flatten().copied().collect();
    if vals.len() < 2 {
        return String::new();
    }
    let (lo, hi) = vals
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let span = if hi - lo < 1e-9 { 1.0 } else { hi - lo };
    let n = points.len().max(2) as f64 - 1.0;
    let mut d = String::new();
    let mut pen_up = true;
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => {
                let x = 2.0 + i as f64 / n * (w - 4.0);
                let y = h - 2.0 - (v - lo) / span * (h - 4.0);
                let _ = write!(d, "{}{x:.1},{y:.1} ", if pen_up { "M" } else { "L" });
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    format!(
        "<svg class=\"spark\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" aria-hidden=\"true\">\
         <path d=\"{d}\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\"/></svg>"
    )
}

/// Horizontal bars: (label, value in 0..=max, text shown, link). One row per item.
pub fn bars(items: &[(String, Option<f64>, String, String)], max: f64, title: &str) -> String {
    let row_h = 22.0;
    let label_w = 150.0;
    let bar_w = 380.0;
    let h = row_h * items.len() as f64 + 28.0;
    let w = label_w + bar_w + 80.0;
    let mut s = format!(
        "<svg class=\"chart bars\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"0\" y=\"14\" class=\"chart-title\">{t}</text>",
        t = esc(title)
    );
    let max = if max <= 0.0 { 1.0 } else { max };
    for (i, (label, v, text, href)) in items.iter().enumerate() {
        let y = 24.0 + i as f64 * row_h;
        let len = v.map(|v| (v / max).clamp(0.0, 1.0) * bar_w).unwrap_or(0.0);
        let _ = write!(
            s,
            "<a href=\"{href}\"><text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\" class=\"bar-label\">{l}</text>\
             <rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{bh}\" class=\"bar\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" class=\"bar-value\">{v}</text></a>",
            href = esc(href),
            lx = label_w - 6.0,
            ty = y + 14.0,
            l = esc(label),
            bh = row_h - 6.0,
            tx = label_w + len + 6.0,
            v = esc(text),
        );
    }
    s.push_str("</svg>");
    s
}

/// A line chart over buckets with an optional band (lower, upper) per bucket, in 0..=1 (rates):
/// the p-chart (limits that vary with each week's count) and trends.
pub struct Line<'a> {
    pub title: &'a str,
    pub labels: &'a [String],
    pub values: &'a [Option<f64>],
    pub band: Option<&'a [(Option<f64>, Option<f64>)]>,
    /// A horizontal reference (the centre line p̄).
    pub centre: Option<f64>,
    pub legend: &'a [(&'a str, &'a str)],
}

pub fn line(c: &Line) -> String {
    let (w, h) = (640.0, 240.0);
    let (l, r, t, b) = (44.0, 12.0, 26.0, 40.0);
    let n = c.labels.len().max(1);
    let x = |i: usize| l + (i as f64 + 0.5) * (w - l - r) / n as f64;
    let y = |v: f64| t + (1.0 - v.clamp(0.0, 1.0)) * (h - t - b);
    let mut s = format!(
        "<svg class=\"chart line\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{ti}\">\
         <text x=\"0\" y=\"14\" class=\"chart-title\">{ti}</text>",
        ti = esc(c.title)
    );
    for k in 0..=4 {
        let v = k as f64 / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{l}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" class=\"grid\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" class=\"axis\">{p}%</text>",
            x2 = w - r,
            yy = y(v),
            tx = l - 4.0,
            ty = y(v) + 4.0,
            p = k * 25
        );
    }
    if let Some(band) = c.band {
        let mut up = String::new();
        let mut lo = String::new();
        for (i, (a, bb)) in band.iter().enumerate() {
            if let (Some(a), Some(bb)) = (a, bb) {
                let _ = write!(up, "{:.1},{:.1} ", x(i), y(*bb));
                let _ = write!(lo, "{:.1},{:.1} ", x(i), y(*a));
            }
        }
        if !up.is_empty() {
            let _ = write!(
                s,
                "<polyline points=\"{up}\" class=\"limit\"/><polyline points=\"{lo}\" class=\"limit\"/>"
            );
        }
    }
    if let Some(cl) = c.centre {
        let _ = write!(
            s,
            "<line x1=\"{l}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" class=\"centre\"/>",
            x2 = w - r,
            yy = y(cl)
        );
    }
    let mut d = String::new();
    let mut pen_up = true;
    for (i, v) in c.values.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if pen_up { "M" } else { "L" },
                    x(i),
                    y(*v)
                );
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    let _ = write!(s, "<path d=\"{d}\" class=\"series\"/>");
    for (i, v) in c.values.iter().enumerate() {
        if let Some(v) = v {
            let out = c
                .band
                .and_then(|b| b.get(i))
                .is_some_and(|(a, bb)| a.is_some_and(|a| *v < a) || bb.is_some_and(|bb| *v > bb));
            let _ = write!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" class=\"{}\"><title>{} {:.1}%</title></circle>",
                x(i),
                y(*v),
                if out { "point out" } else { "point" },
                esc(&c.labels[i]),
                v * 100.0
            );
        }
    }
    let step = n.div_ceil(8);
    for (i, lab) in c.labels.iter().enumerate() {
        if i % step == 0 {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
                x(i),
                h - b + 16.0,
                esc(lab)
            );
        }
    }
    for (i, (class, text)) in c.legend.iter().enumerate() {
        let lx = l + i as f64 * 150.0;
        let _ = write!(
            s,
            "<line x1=\"{lx}\" x2=\"{x2}\" y1=\"{ly}\" y2=\"{ly}\" class=\"{class}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" class=\"axis\">{t}</text>",
            x2 = lx + 18.0,
            ly = h - 8.0,
            tx = lx + 22.0,
            ty = h - 4.0,
            t = esc(text)
        );
    }
    s.push_str("</svg>");
    s
}

/// A funnel plot: each technician's rate against their count, with the group's rate and its
/// 95 % and 99.8 % limits (which narrow as the count grows).
pub fn funnel(
    title: &str,
    x_title: &str,
    points: &[(String, i64, f64, String)],
    centre: f64,
    limits: &dyn Fn(i64) -> Option<(f64, f64, f64, f64)>,
    legend: &[(&str, &str)],
) -> String {
    let (w, h) = (640.0, 260.0);
    let (l, r, t, b) = (44.0, 12.0, 26.0, 44.0);
    let nmax = points.iter().map(|p| p.1).max().unwrap_or(1).max(10) as f64 * 1.05;
    let x = |n: f64| l + n / nmax * (w - l - r);
    let y = |v: f64| t + (1.0 - v.clamp(0.0, 1.0)) * (h - t - b);
    let mut s = format!(
        "<svg class=\"chart funnel\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{ti}\">\
         <text x=\"0\" y=\"14\" class=\"chart-title\">{ti}</text>",
        ti = esc(title)
    );
    for k in 0..=4 {
        let v = k as f64 / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{l}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" class=\"grid\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" class=\"axis\">{p}%</text>",
            x2 = w - r,
            yy = y(v),
            tx = l - 4.0,
            ty = y(v) + 4.0,
            p = k * 25
        );
    }
    let mut lines = [String::new(), String::new(), String::new(), String::new()];
    let steps = 60;
    for i in 1..=steps {
        let n = (nmax * i as f64 / steps as f64).max(1.0) as i64;
        if let Some((a, bb, c, d)) = limits(n) {
            for (k, v) in [a, bb, c, d].into_iter().enumerate() {
                let _ = write!(lines[k], "{:.1},{:.1} ", x(n as f64), y(v));
            }
        }
    }
    for (k, pts) in lines.iter().enumerate() {
        let class = if k < 2 { "limit95" } else { "limit" };
        let _ = write!(s, "<polyline points=\"{pts}\" class=\"{class}\"/>");
    }
    let _ = write!(
        s,
        "<line x1=\"{l}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" class=\"centre\"/>",
        x2 = w - r,
        yy = y(centre)
    );
    for (name, n, v, href) in points {
        let out = limits(*n).is_some_and(|(_, _, lo, hi)| *v < lo || *v > hi);
        let _ = write!(
            s,
            "<a href=\"{}\"><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" class=\"{}\"><title>{} · {} · {:.1}%</title></circle></a>",
            esc(href),
            x(*n as f64),
            y(*v),
            if out { "point out" } else { "point" },
            esc(name),
            n,
            v * 100.0
        );
    }
    // The count axis: five ticks.
    for k in 0..=4 {
        let n = (nmax / 1.05 * k as f64 / 4.0).round();
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
            x(n),
            h - b + 14.0,
            n
        );
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis\">{}</text>",
        w - r,
        h - b + 28.0,
        esc(x_title)
    );
    for (i, (class, text)) in legend.iter().enumerate() {
        let lx = l + i as f64 * 150.0;
        let _ = write!(
            s,
            "<line x1=\"{lx}\" x2=\"{x2}\" y1=\"{ly}\" y2=\"{ly}\" class=\"{class}\"/>\
             <text x=\"{tx}\" y=\"{ty}\" class=\"axis\">{t}</text>",
            x2 = lx + 18.0,
            ly = h - 8.0,
            tx = lx + 22.0,
            ty = h - 4.0,
            t = esc(text)
        );
    }
    s.push_str("</svg>");
    s
}

/// A radar (spider) chart: one axis per label, each series a polygon of values in 0..=1 (None
/// draws at the centre and is marked "—" in the legend text); grid rings at 20 % steps.
/// `series`: (name, css class, values per axis).
pub fn radar(title: &str, axes: &[String], series: &[(String, &str, Vec<Option<f64>>)]) -> String {
    let n = axes.len();
    if n < 3 {
        return String::new();
    }
    // Room either side for labels of up to ten characters.
    let (w, h) = (540.0, 420.0);
    let (cx, cy, r) = (270.0, 196.0, 128.0);
    let point = |i: usize, v: f64| {
        let a = -std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / n as f64;
        (cx + r * v * a.cos(), cy + r * v * a.sin())
    };
    let mut s = format!(
        "<svg class=\"chart radar\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"0\" y=\"14\" class=\"chart-title\">{t}</text>",
        t = esc(title)
    );
    for ring in 1..=5 {
        let v = ring as f64 / 5.0;
        let pts: Vec<String> = (0..n)
            .map(|i| {
                let (x, y) = point(i, v);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            s,
            "<polygon class=\"grid\" points=\"{}\" fill=\"none\"/>",
            pts.join(" ")
        );
    }
    for (i, label) in axes.iter().enumerate() {
        let (x, y) = point(i, 1.0);
        let (lx, ly) = point(i, 1.16);
        let anchor = if (lx - cx).abs() < 5.0 {
            "middle"
        } else if lx > cx {
            "start"
        } else {
            "end"
        };
        let _ = write!(
            s,
            "<line class=\"axis\" x1=\"{cx}\" y1=\"{cy}\" x2=\"{x:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"radar-label\">{}</text>",
            ly + 4.0,
            esc(label)
        );
    }
    for (k, (name, class, values)) in series.iter().enumerate() {
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let (x, y) = point(i, v.unwrap_or(0.0).clamp(0.0, 1.0));
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = write!(
            s,
            "<polygon class=\"series {class}\" points=\"{}\"><title>{}</title></polygon>",
            pts.join(" "),
            esc(name)
        );
        let ly = h - 8.0 - 16.0 * (series.len() - 1 - k) as f64;
        let _ = write!(
            s,
            "<rect class=\"series {class}\" x=\"0\" y=\"{:.1}\" width=\"12\" height=\"10\"/>\
             <text x=\"18\" y=\"{ly:.1}\" class=\"legend\">{}</text>",
            ly - 9.0,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_lifts_the_pen_over_gaps_and_needs_two_points() {
        assert_eq!(sparkline(&[Some(1.0)], 80.0, 20.0), "");
        let s = sparkline(&[Some(0.0), None, Some(1.0), Some(0.5)], 80.0, 20.0);
        assert_eq!(s.matches('M').count(), 2, "{s}");
        assert!(s.contains("L"), "{s}");
    }

    #[test]
    fn labels_are_escaped_and_points_outside_the_limits_are_marked() {
        let labels = vec!["<W1>".to_string(), "W2".to_string()];
        let values = [Some(0.9), Some(0.5)];
        let band = [(Some(0.6), Some(0.8)), (Some(0.4), Some(0.6))];
        let s = line(&Line {
            title: "a & b",
            labels: &labels,
            values: &values,
            band: Some(&band),
            centre: Some(0.6),
            legend: &[],
        });
        assert!(s.contains("a &amp; b") && s.contains("&lt;W1&gt;"));
        assert_eq!(s.matches("point out").count(), 1, "{s}");
    }

    #[test]
    fn a_radar_needs_three_axes_and_draws_each_series() {
        let axes: Vec<String> = ["甲", "乙"].iter().map(|s| s.to_string()).collect();
        assert!(radar("t", &axes, &[]).is_empty());
        let axes: Vec<String> = ["甲", "乙", "丙", "<丁>"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let svg = radar(
            "满意度",
            &axes,
            &[
                (
                    "本期".into(),
                    "now",
                    vec![Some(1.0), Some(0.5), None, Some(0.25)],
                ),
                ("上期".into(), "before", vec![Some(0.8); 4]),
            ],
        );
        assert_eq!(svg.matches("<polygon class=\"series").count(), 2);
        assert_eq!(svg.matches("class=\"grid\"").count(), 5);
        assert!(svg.contains("&lt;丁&gt;"), "labels escaped");
        // The first axis points up: value 1.0 on it sits at the top of the circle.
        assert!(svg.contains("270.0,68.0"), "{svg}");
    }
}
