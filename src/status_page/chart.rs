//! The page's chart, rows per run, as inline SVG built with the `svg` crate (a document
//! builder that escapes text and attributes): one bar per run, oldest on the left, each with
//! a `<title>` a browser shows on hover, drawn in front of a paler one of the whole it is
//! part of (the rows the run finished, in front of the rows it saw).

use svg::node::element::{Line, Rectangle, Text, Title};
use svg::Document;

/// One bar: its label under it, what its title says, its value, and the whole it is part
/// of (drawn behind it).
#[derive(Debug, Clone)]
pub struct Bar {
    pub id: String,
    pub label: String,
    pub title: String,
    pub value: i64,
    pub whole: i64,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 16.0;

/// A bar chart of `bars`, each bar a `rect` of class `bar` with `data-run` and `data-value`,
/// in front of a `rect` of class `whole` with `data-run` and `data-whole`.
pub fn bars(bars: &[Bar], caption: &str) -> String {
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let max = bars.iter().map(|b| b.value.max(b.whole)).max().unwrap_or(0).max(1);
    let mut doc = Document::new()
        .set("viewBox", (0, 0, WIDTH, HEIGHT))
        .set("width", WIDTH)
        .set("height", HEIGHT)
        .set("role", "img")
        .set("aria-label", caption)
        .set("class", "chart")
        .add(Title::new(caption));
    let baseline = TOP + plot_h;
    doc = doc
        .add(
            Line::new()
                .set("x1", LEFT)
                .set("y1", baseline)
                .set("x2", LEFT + plot_w)
                .set("y2", baseline)
                .set("class", "axis"),
        )
        .add(Line::new().set("x1", LEFT).set("y1", TOP).set("x2", LEFT).set("y2", baseline).set("class", "axis"))
        .add(axis_label(LEFT - 6.0, TOP + 4.0, &max.to_string()))
        .add(axis_label(LEFT - 6.0, baseline, "0"));
    let slot = plot_w / bars.len().max(1) as f64;
    let width = (slot * 0.7).clamp(1.0, 48.0);
    let height = |v: i64| plot_h * v.max(0) as f64 / max as f64;
    for (i, bar) in bars.iter().enumerate() {
        let h = height(bar.value);
        let x = LEFT + slot * i as f64 + (slot - width) / 2.0;
        // A column from the baseline, `h` high, of `class`, with the run's id and title.
        let column = |h: f64, class: &str| {
            Rectangle::new()
                .set("x", round(x))
                .set("y", round(baseline - h))
                .set("width", round(width))
                .set("height", round(h))
                .set("class", class)
                .set("data-run", bar.id.as_str())
                .add(Title::new(bar.title.as_str()))
        };
        doc = doc.add(column(height(bar.whole), "whole").set("data-whole", bar.whole));
        doc = doc.add(column(h, "bar").set("data-value", bar.value));
        let centre = round(x + width / 2.0);
        doc = doc.add(
            Text::new(bar.value.to_string())
                .set("x", centre)
                .set("y", round(baseline - h - 3.0))
                .set("text-anchor", "middle")
                .set("class", "value"),
        );
        doc = doc.add(
            Text::new(bar.label.as_str())
                .set("x", centre)
                .set("y", baseline + 14.0)
                .set("text-anchor", "middle")
                .set("class", "label"),
        );
    }
    doc.to_string()
}

fn axis_label(x: f64, y: f64, text: &str) -> Text {
    Text::new(text).set("x", x).set("y", y).set("text-anchor", "end").set("class", "label")
}

/// To a tenth of a pixel: shorter markup, the same picture.
fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_per_run_with_its_value_and_escaped_text() {
        let bars = [
            Bar { id: "r1".into(), label: "a".into(), title: "<b>1</b>".into(), value: 4, whole: 8 },
            Bar { id: "r2".into(), label: "b".into(), title: "t".into(), value: 0, whole: 8 },
        ];
        let svg = super::bars(&bars, "rows & runs");
        assert_eq!(svg.matches("class=\"bar\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"whole\"").count(), 2, "{svg}");
        assert!(svg.contains("data-run=\"r1\"") && svg.contains("data-value=\"4\""), "{svg}");
        assert!(svg.contains("data-whole=\"8\""), "{svg}");
        assert!(!svg.contains("<b>") && svg.contains("&lt;b&gt;1&lt;/b&gt;"), "{svg}");
        assert!(svg.contains("rows &amp; runs"), "{svg}");
    }
}
