#include "web/bar_chart.hpp"

#include <algorithm>
#include <cstdio>

namespace portal::web {

namespace {

// Left of this the vertical axis' tick labels; the bars share the rest of the width.
constexpr double plot_left_percent = 7.0;
// Each bar takes this share of its slot, centred.
constexpr double bar_share = 0.6;
// A zero day still shows a sliver on the baseline, so it reads as "none" rather than "missing".
constexpr int zero_bar_height = 2;

std::string percent(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f%%", value);
    return buf;
}

std::string px(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", value);
    return buf;
}

std::string safe_id(std::string_view id) {
    std::string out;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (ok) out += c;
    }
    return out.empty() ? "chart" : out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string compact_number(long long value) {
    if (value < 1000 && value > -1000) return std::to_string(value);
    const bool thousands = value < 1'000'000 && value > -1'000'000;
    const double scaled = static_cast<double>(value) / (thousands ? 1e3 : 1e6);
    const char* suffix = thousands ? "k" : "M";
    char buf[32];
    // One decimal below 10 (1.2k), none above (25k); a trailing ".0" is dropped.
    if (scaled < 10 && scaled > -10) {
        std::snprintf(buf, sizeof buf, "%.1f", scaled);
        std::string s = buf;
        if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
        return s + suffix;
    }
    std::snprintf(buf, sizeof buf, "%.0f", scaled);
    return std::string(buf) + suffix;
}

chart_scale scale_for(long long largest) {
    // Small counts keep a 0–4 axis, so one sign-in is a short bar rather than a full-height one.
    if (largest <= 4) return {4, 1};
    long long step = 1;
    for (long long magnitude = 1;; magnitude *= 10) {
        bool found = false;
        for (long long m : {1, 2, 5}) {
            if (m * magnitude * 4 >= largest) {
                step = m * magnitude;
                found = true;
                break;
            }
        }
        if (found) break;
    }
    return {(largest + step - 1) / step * step, step};
}

std::string render_bar_chart(const bar_chart& chart) {
    const std::string id = safe_id(chart.id);
    long long largest = 0;
    for (const auto& b : chart.bars) largest = std::max(largest, b.value);
    const chart_scale scale = scale_for(largest);
    const double plot_height = chart_baseline - chart_plot_top;
    auto y_of = [&](long long v) {
        return chart_baseline -
               plot_height * static_cast<double>(std::max(v, 0LL)) / static_cast<double>(scale.max);
    };

    std::string svg;
    svg +=
        "<svg class=\"chart__svg chart__svg--bars\" xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"100%\" height=\"" +
        std::to_string(chart_height) + "\" role=\"img\" aria-labelledby=\"" + id + "-title " + id +
        "-desc\">\n";
    svg += "<title id=\"" + id + "-title\">" + xml_escape(chart.title) + "</title>\n";
    svg += "<desc id=\"" + id + "-desc\">" + xml_escape(chart.description) + "</desc>\n";

    // The vertical axis: its name at the top left, a gridline and label per tick.
    svg += "<text class=\"chart__label chart__axis-title\" x=\"0\" y=\"12\">" +
           xml_escape(chart.value_label) + "</text>\n";
    svg += "<g class=\"chart__grid\">\n";
    for (long long v = 0; v <= scale.max; v += scale.step) {
        const double y = y_of(v);
        svg += "<line class=\"" + std::string(v == 0 ? "chart__axis" : "chart__gridline") +
               "\" x1=\"" + percent(plot_left_percent) + "\" x2=\"100%\" y1=\"" + px(y) +
               "\" y2=\"" + px(y) + "\"/>";
        svg += "<text class=\"chart__label chart__tick\" x=\"" + percent(plot_left_percent - 1.0) +
               "\" y=\"" + px(y + 4) + "\" text-anchor=\"end\">" + compact_number(v) + "</text>\n";
    }
    svg += "</g>\n";

    const std::size_t n = chart.bars.size();
    const double slot = n == 0 ? 0 : (100.0 - plot_left_percent) / static_cast<double>(n);
    svg += "<g class=\"chart__bars\">\n";
    for (std::size_t i = 0; i < n; ++i) {
        const auto& b = chart.bars[i];
        const double left = plot_left_percent + slot * static_cast<double>(i);
        const double centre = left + slot / 2;
        const long long value = std::max(b.value, 0LL);
        double top = y_of(value);
        std::string cls = "chart__bar";
        if (value == 0) {
            top = chart_baseline - zero_bar_height;
            cls += " chart__bar--zero";
        }
        svg += "<g class=\"chart__day\">";
        svg += "<rect class=\"" + cls + "\" x=\"" + percent(left + slot * (1 - bar_share) / 2) +
               "\" y=\"" + px(top) + "\" width=\"" + percent(slot * bar_share) + "\" height=\"" +
               px(chart_baseline - top) + "\" data-value=\"" + std::to_string(value) + "\">";
        if (!b.tooltip.empty()) svg += "<title>" + xml_escape(b.tooltip) + "</title>";
        svg += "</rect>";
        svg += "<text class=\"chart__value\" x=\"" + percent(centre) + "\" y=\"" + px(top - 6) +
               "\" text-anchor=\"middle\">" + compact_number(value) + "</text>";
        svg += "<text class=\"chart__label\" x=\"" + percent(centre) + "\" y=\"" +
               px(chart_baseline + 18) + "\" text-anchor=\"middle\">" + xml_escape(b.label) +
               "</text>";
        if (!b.sublabel.empty()) {
            svg += "<text class=\"chart__label chart__sublabel\" x=\"" + percent(centre) +
                   "\" y=\"" + px(chart_baseline + 34) + "\" text-anchor=\"middle\">" +
                   xml_escape(b.sublabel) + "</text>";
        }
        svg += "</g>\n";
    }
    svg += "</g>\n</svg>";
    return svg;
}

}  // namespace portal::web
