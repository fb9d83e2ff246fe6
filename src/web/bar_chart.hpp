// A vertical bar chart as inline SVG, drawn by the portal (no script, no style attributes: the
// CSP forbids them). Colours come from the stylesheet's chart classes (section 18) and custom
// properties, so it reads in both themes. Horizontal positions are percentages, so the chart
// stretches to its container while its text keeps its size; heights are pixels.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace portal::web {

struct chart_bar {
    std::string label;     // under the bar, short ("24")
    std::string sublabel;  // a second line under it, often empty ("Nov" where a month starts)
    std::string tooltip;   // the bar's <title> ("Tue 24 Nov 2026: 3 logins")
    long long value = 0;   // negative values are drawn as 0
};

struct bar_chart {
    std::string id;  // prefix for the ids of the title and description (letters, digits, - and _)
    std::string title;
    std::string description;
    std::string value_label;  // the vertical axis ("Logins")
    std::vector<chart_bar> bars;
};

// The vertical axis: from 0 to `max` in ticks of `step` (1, 2 or 5 times a power of ten, at
// most about four ticks).
struct chart_scale {
    long long max = 4;
    long long step = 1;
};
chart_scale scale_for(long long largest);

// Geometry, in SVG user units (CSS pixels) from the top; tests measure bars against these.
inline constexpr int chart_height = 240;
inline constexpr int chart_plot_top = 28;
inline constexpr int chart_baseline = 196;

// The <svg> element: role="img", labelled by its <title> and <desc>; every text escaped.
std::string render_bar_chart(const bar_chart& chart);

// Text for XML/HTML: & < > " ' as entities.
std::string xml_escape(std::string_view text);

// 950 → "950", 1200 → "1.2k", 25000 → "25k": labels that fit a narrow bar.
std::string compact_number(long long value);

}  // namespace portal::web
