// The SVG bar chart of the analytics page: escaping, zero data, scaling to the tallest bar, one
// bar per day, and what assistive technology is given.
#include "web/bar_chart.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

using namespace portal::web;

namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
        ++n;
    return n;
}

struct drawn_bar {
    double y = 0;
    double height = 0;
    long long value = 0;
    std::string cls;
};

// Every <rect> of the chart, in document order.
std::vector<drawn_bar> bars_of(const std::string& svg) {
    static const std::regex rect(
        R"re(<rect class="([^"]*)" x="[^"]*" y="([0-9.]+)" width="[^"]*" height="([0-9.]+)" data-value="(\d+)")re");
    std::vector<drawn_bar> out;
    for (std::sregex_iterator it(svg.begin(), svg.end(), rect), end; it != end; ++it) {
        out.push_back({std::stod((*it)[2]), std::stod((*it)[3]), std::stoll((*it)[4]), (*it)[1]});
    }
    return out;
}

bar_chart fourteen_days(const std::vector<long long>& values) {
    bar_chart c;
    c.id = "logins";
    c.title = "Logins per day";
    c.description = "Fourteen days";
    c.value_label = "Logins";
    for (std::size_t i = 0; i < values.size(); ++i) {
        chart_bar b;
        b.label = std::to_string(i + 1);
        b.tooltip = "Day " + std::to_string(i + 1);
        b.value = values[i];
        c.bars.push_back(b);
    }
    return c;
}

constexpr double plot_height = chart_baseline - chart_plot_top;

}  // namespace

TEST(bar_chart, draws_one_bar_per_day_with_a_label_each) {
    const auto svg = render_bar_chart(fourteen_days({3, 0, 1, 4, 2, 0, 0, 5, 6, 1, 0, 2, 3, 7}));
    const auto bars = bars_of(svg);
    ASSERT_EQ(bars.size(), 14u);
    EXPECT_EQ(occurrences(svg, "<g class=\"chart__day\">"), 14u);
    for (int day = 1; day <= 14; ++day) {
        EXPECT_NE(svg.find(">" + std::to_string(day) + "</text>"), std::string::npos) << day;
        EXPECT_NE(svg.find("<title>Day " + std::to_string(day) + "</title>"), std::string::npos);
    }
    EXPECT_EQ(bars[13].value, 7);
    EXPECT_EQ(bars[1].value, 0);
    // Bars go left to right in the given order.
    std::vector<double> xs;
    static const std::regex x(R"re(<rect class="[^"]*" x="([0-9.]+)%")re");
    for (std::sregex_iterator it(svg.begin(), svg.end(), x), end; it != end; ++it)
        xs.push_back(std::stod((*it)[1]));
    ASSERT_EQ(xs.size(), 14u);
    for (std::size_t i = 1; i < xs.size(); ++i) EXPECT_LT(xs[i - 1], xs[i]);
    EXPECT_LE(xs.back(), 100.0);
}

TEST(bar_chart, tallest_bar_reaches_the_top_of_a_nice_scale) {
    // 10 is a round maximum: its bar fills the plot, 5 fills half of it.
    auto bars = bars_of(render_bar_chart(fourteen_days({10, 5, 0, 1})));
    ASSERT_EQ(bars.size(), 4u);
    EXPECT_NEAR(bars[0].height, plot_height, 0.11);
    EXPECT_NEAR(bars[0].y, chart_plot_top, 0.11);
    EXPECT_NEAR(bars[1].height, plot_height / 2, 0.11);
    EXPECT_NEAR(bars[3].height, plot_height / 10, 0.11);
    for (const auto& b : bars) EXPECT_NEAR(b.y + b.height, chart_baseline, 0.11);

    // 7 is not round: the axis goes to 8 and the bar stays below the top.
    bars = bars_of(render_bar_chart(fourteen_days({7, 8})));
    EXPECT_NEAR(bars[0].height, plot_height * 7 / 8, 0.11);
    EXPECT_NEAR(bars[1].height, plot_height, 0.11);

    // Large counts scale the same way; the tick labels are short.
    const auto svg = render_bar_chart(fourteen_days({2500, 1000}));
    bars = bars_of(svg);
    EXPECT_NEAR(bars[0].height, plot_height * 2500 / 3000, 0.11);
    EXPECT_NE(svg.find(">3k</text>"), std::string::npos);
    EXPECT_NE(svg.find(">2.5k</text>"), std::string::npos);  // the value over the first bar
}

TEST(bar_chart, scale_uses_round_steps) {
    EXPECT_EQ(scale_for(0).max, 4);
    EXPECT_EQ(scale_for(0).step, 1);
    EXPECT_EQ(scale_for(3).max, 4);
    EXPECT_EQ(scale_for(5).max, 6);
    EXPECT_EQ(scale_for(5).step, 2);
    EXPECT_EQ(scale_for(10).max, 10);
    EXPECT_EQ(scale_for(10).step, 5);
    EXPECT_EQ(scale_for(11).max, 15);
    EXPECT_EQ(scale_for(99).max, 100);
    EXPECT_EQ(scale_for(99).step, 50);
    EXPECT_EQ(scale_for(101).max, 150);
    EXPECT_EQ(scale_for(1'000'000).max, 1'000'000);
    for (long long largest : {1LL, 6LL, 17LL, 42LL, 123LL, 999LL, 4321LL, 77777LL}) {
        const auto s = scale_for(largest);
        EXPECT_GE(s.max, largest);
        EXPECT_EQ(s.max % s.step, 0);
        EXPECT_LE(s.max / s.step, 5) << largest;  // a handful of gridlines, never dozens
    }
}

TEST(bar_chart, zero_data_still_shows_every_day) {
    const auto svg = render_bar_chart(fourteen_days(std::vector<long long>(14, 0)));
    const auto bars = bars_of(svg);
    ASSERT_EQ(bars.size(), 14u);
    for (const auto& b : bars) {
        EXPECT_EQ(b.value, 0);
        EXPECT_NE(b.cls.find("chart__bar--zero"), std::string::npos);
        // A sliver on the baseline, not nothing and not a full bar.
        EXPECT_GT(b.height, 0);
        EXPECT_LT(b.height, 5);
        EXPECT_NEAR(b.y + b.height, chart_baseline, 0.11);
    }
    EXPECT_EQ(occurrences(svg, "text-anchor=\"middle\">0</text>"), 14u);  // a "0" over each day
    EXPECT_NE(svg.find(">4</text>"), std::string::npos);                  // an axis all the same
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_EQ(svg.find("inf"), std::string::npos);

    // No bars at all: still a well-formed, labelled image.
    bar_chart empty = fourteen_days({});
    const auto none = render_bar_chart(empty);
    EXPECT_TRUE(bars_of(none).empty());
    EXPECT_NE(none.find("role=\"img\""), std::string::npos);
    EXPECT_EQ(none.find("nan"), std::string::npos);
}

TEST(bar_chart, negative_values_are_drawn_as_zero) {
    const auto bars = bars_of(render_bar_chart(fourteen_days({-5, 2})));
    ASSERT_EQ(bars.size(), 2u);
    EXPECT_EQ(bars[0].value, 0);
    EXPECT_LT(bars[0].height, 5);
}

TEST(bar_chart, every_text_is_escaped) {
    bar_chart c = fourteen_days({1, 2});
    c.title = "<script>alert(1)</script> & co";
    c.description = "\"quoted\" 'single' <b>";
    c.value_label = "Log<ins>";
    c.bars[0].label = "<i>";
    c.bars[0].sublabel = "&amp;";
    c.bars[1].tooltip = "</title><script>x</script>";
    c.id = "a\" onload=\"x";
    const auto svg = render_bar_chart(c);
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.find("<b>"), std::string::npos);
    EXPECT_EQ(svg.find("<i>"), std::string::npos);
    EXPECT_EQ(svg.find("onload=\""), std::string::npos);
    EXPECT_NE(svg.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"), std::string::npos);
    EXPECT_NE(svg.find("&quot;quoted&quot; &#39;single&#39; &lt;b&gt;"), std::string::npos);
    EXPECT_NE(svg.find("Log&lt;ins&gt;"), std::string::npos);
    EXPECT_NE(svg.find("&amp;amp;"), std::string::npos);
    EXPECT_NE(svg.find("&lt;/title&gt;&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
    // The id keeps only safe characters, and the references still match the elements.
    EXPECT_NE(svg.find("aria-labelledby=\"aonloadx-title aonloadx-desc\""), std::string::npos);
    EXPECT_NE(svg.find("<title id=\"aonloadx-title\">"), std::string::npos);
    EXPECT_NE(svg.find("<desc id=\"aonloadx-desc\">"), std::string::npos);
}

TEST(bar_chart, is_an_image_labelled_by_its_title_and_description_without_inline_styles) {
    const auto svg = render_bar_chart(fourteen_days({1, 2, 3}));
    EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
    EXPECT_NE(svg.find("role=\"img\""), std::string::npos);
    EXPECT_NE(svg.find("aria-labelledby=\"logins-title logins-desc\""), std::string::npos);
    EXPECT_NE(svg.find("<title id=\"logins-title\">Logins per day</title>"), std::string::npos);
    EXPECT_NE(svg.find("<desc id=\"logins-desc\">Fourteen days</desc>"), std::string::npos);
    EXPECT_NE(svg.find(">Logins</text>"), std::string::npos);  // the axis says what it counts
    // The CSP forbids inline styles; colours come from classes.
    EXPECT_EQ(svg.find("style="), std::string::npos);
    EXPECT_EQ(svg.find("fill="), std::string::npos);
    EXPECT_EQ(svg.find("stroke="), std::string::npos);
    EXPECT_NE(svg.find("class=\"chart__bar\""), std::string::npos);
    EXPECT_NE(svg.find("class=\"chart__gridline\""), std::string::npos);
    EXPECT_NE(svg.find("class=\"chart__axis\""), std::string::npos);
    EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
}

TEST(bar_chart, compact_numbers) {
    EXPECT_EQ(compact_number(0), "0");
    EXPECT_EQ(compact_number(999), "999");
    EXPECT_EQ(compact_number(1000), "1k");
    EXPECT_EQ(compact_number(1250), "1.2k");
    EXPECT_EQ(compact_number(2500), "2.5k");
    EXPECT_EQ(compact_number(25000), "25k");
    EXPECT_EQ(compact_number(3'000'000), "3M");
}

TEST(bar_chart, xml_escape_covers_markup_characters) {
    EXPECT_EQ(xml_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    EXPECT_EQ(xml_escape("Zoë ✓"), "Zoë ✓");
}
