# bubble_from_ggplot(): what converts, and what is an error naming it.

library(ggplot2)

base <- ggplot(mtcars, aes(wt, mpg, size = hp, colour = factor(cyl))) + geom_point()
# for other layers: no size mapping that lines and text would inherit
base0 <- ggplot(mtcars, aes(wt, mpg)) + geom_point(aes(colour = factor(cyl)))

problems_of <- function(p) {
    e <- tryCatch(bubble_from_ggplot(p), bubble_unsupported = function(e) e)
    if (inherits(e, "bubble_unsupported")) e$problems else character()
}

test_that("the test plots convert without a problem", {
    for (n in names(test_plots())) {
        expect_identical(problems_of(test_plots()[[n]]), character(), label = n)
    }
})

test_that("aesthetics, labs and geom_point's fixed look", {
    p <- ggplot(mtcars, aes(wt, mpg, size = hp, colour = factor(cyl))) +
        geom_point(alpha = 0.6) + labs(title = "T", subtitle = "S", caption = "C",
                                       x = "weight", colour = "cylinders")
    s <- bubble_from_ggplot(p, width = 640, height = 480, scale = 2)
    expect_equal(s[c("width", "height", "scale")], list(width = 640L, height = 480L, scale = 2))
    expect_equal(s$mapping, list(x = "wt", y = "mpg", size = "hp", color = "factor(cyl)"))
    expect_equal(s$data$`factor(cyl)`, as.character(mtcars$cyl))
    expect_equal(s[c("title", "subtitle", "caption", "theme", "alpha")],
                 list(title = "T", subtitle = "S", caption = "C", theme = "gray", alpha = 0.6))
    expect_equal(s$x$title, "weight")
    expect_equal(s$color$title, "cylinders")
    expect_equal(s$color$type, "categorical")
    expect_equal(as.character(s$color$limits), c("4", "6", "8"))
    expect_equal(s$color$palette, "hue")
    expect_equal(s$size$range, c(1, 6) * .pt / 2)
})

test_that("scales: log10, sqrt, reverse, limits, breaks, labelling functions", {
    p <- ggplot(mtcars, aes(disp, mpg)) + geom_point() +
        scale_x_log10(limits = c(50, NA)) + scale_y_reverse(breaks = c(10, 20, 30))
    s <- bubble_from_ggplot(p)
    expect_equal(s$x$scale, "log10")
    expect_equal(s$x$limits, c(50, max(mtcars$disp)))
    expect_true(s$y$reverse)
    expect_equal(s$y$breaks, c(10, 20, 30))
    s <- bubble_from_ggplot(ggplot(mtcars, aes(disp, mpg)) + geom_point() + scale_y_sqrt() +
                                scale_x_continuous(labels = scales::label_dollar()))
    expect_equal(s$y$scale, "sqrt")
    expect_equal(as.character(s$x$labels), c("$100", "$200", "$300", "$400"))
    expect_equal(s$x$breaks, c(100, 200, 300, 400))
})

test_that("size scales: area, radius, the default", {
    s <- bubble_from_ggplot(base + scale_size_area(max_size = 10))
    expect_equal(s$size$range, c(0, 10 * .pt / 2))
    s <- bubble_from_ggplot(base + scale_radius(range = c(2, 8), limits = c(0, 400),
                                                breaks = c(100, 300)))
    expect_equal(s$size[c("type", "range", "limits", "breaks")],
                 list(type = "radius", range = c(2, 8) * .pt / 2, limits = c(0, 400),
                      breaks = c(100, 300)))
    s <- bubble_from_ggplot(ggplot(mtcars, aes(wt, mpg)) + geom_point(size = 3))
    expect_equal(s$size, list(range = c(0, 3 * .pt / 2)))
})

test_that("colour scales: brewer, viridis, manual, continuous, fill with shape 21", {
    expect_equal(bubble_from_ggplot(base + scale_colour_brewer(palette = "Set2"))$color$palette,
                 "set2")
    expect_equal(bubble_from_ggplot(base + scale_colour_viridis_d(option = "magma"))$color$palette,
                 "magma")
    pal <- bubble_from_ggplot(base + scale_colour_manual(values = c("red", "#00FF00", "navy")))$color$palette
    expect_equal(as.character(pal), c("#FF0000", "#00FF00", "#000080"))
    s <- bubble_from_ggplot(ggplot(mtcars, aes(wt, mpg, colour = qsec)) + geom_point() +
                                scale_colour_viridis_c(option = "plasma"))
    expect_equal(s$color[c("type", "palette")], list(type = "continuous", palette = "plasma"))
    s <- bubble_from_ggplot(ggplot(mtcars, aes(wt, mpg, colour = qsec)) + geom_point() +
                                scale_colour_gradient(low = "white", high = "red"))
    expect_length(s$color$palette, 16)
    expect_equal(as.character(s$color$palette[c(1, 16)]), c("#FFFFFF", "#FF0000"))
    s <- bubble_from_ggplot(ggplot(mtcars, aes(wt, mpg, fill = factor(am))) +
                                geom_point(shape = 21, colour = "grey30", stroke = 1))
    expect_equal(s$mapping$color, "factor(am)")
    expect_equal(s$stroke, list(color = "#4D4D4D", width = 1 * .stroke / 2))
})

test_that("themes: the four, with base size, family and legend position", {
    th <- function(p) {
        s <- bubble_from_ggplot(p)
        list(theme = s$theme, font = s$font, legend = s$legend)
    }
    expect_equal(th(base + theme_minimal()), list(theme = "minimal", font = NULL, legend = NULL))
    expect_equal(th(base + theme_classic(base_size = 14)),
                 list(theme = "classic", font = list(size = 14), legend = NULL))
    expect_equal(th(base + theme_dark() + theme(legend.position = "bottom")),
                 list(theme = "dark", font = NULL, legend = list(position = "bottom")))
    expect_equal(th(base + theme_grey() + theme(text = element_text(size = 13))),
                 list(theme = "gray", font = list(size = 13), legend = NULL))
    expect_equal(th(base + theme(legend.position = "none"))$legend, list(position = "none"))
    old <- theme_set(theme_minimal())
    on.exit(theme_set(old))
    expect_equal(th(base)$theme, "minimal")
})

test_that("facet_wrap of one variable, with ncol", {
    s <- bubble_from_ggplot(base + facet_wrap(~gear, ncol = 2))
    expect_equal(s$facet, list(wrap = "gear", ncol = 2L))
    expect_equal(s$data$gear, mtcars$gear)
})

test_that("geom_text labels the bubbles; a tooltip column", {
    cars <- cbind(mtcars, model = rownames(mtcars))
    s <- bubble_from_ggplot(ggplot(cars, aes(wt, mpg)) + geom_point() +
                                geom_text(aes(label = model), check_overlap = TRUE),
                            tooltip = cars$model)
    expect_equal(s$mapping$label, "model")
    expect_equal(s$mapping$tooltip, "tooltip")
    expect_equal(s$data$tooltip, rownames(mtcars))
})

test_that("what the server cannot draw is one error naming every layer and scale", {
    p <- base0 + geom_smooth(method = "lm", formula = y ~ x) + coord_flip() +
        scale_x_continuous(sec.axis = dup_axis()) +
        theme(axis.text = element_text(colour = "red"))
    e <- expect_error(bubble_from_ggplot(p), class = "bubble_unsupported")
    expect_match(conditionMessage(e), "cannot draw this ggplot")
    expect_length(e$problems, 4)
    expect_match(e$problems[1], "^layer 2, geom_smooth\\(method = \"lm\", formula = y ~ x\\):")
    expect_match(e$problems[2], "coord_flip()", fixed = TRUE)
    expect_match(e$problems[3], "the x scale: sec.axis", fixed = TRUE)
    expect_match(e$problems[4], "differs from theme_gray() in axis.text", fixed = TRUE)
})

test_that("each unsupported feature is named", {
    cases <- list(
        "geom_line()" = base0 + geom_line(),
        "annotate(" = base0 + annotate("text", x = 3, y = 30, label = "note"),
        "the colour aesthetic of labels" = base + geom_text(aes(label = cyl)),
        "position_jitter()" = ggplot(mtcars, aes(wt, mpg)) + geom_jitter(),
        "stat_sum()" = ggplot(mtcars, aes(wt, mpg)) + geom_count(),
        "the shape aesthetic" = ggplot(mtcars, aes(wt, mpg, shape = factor(am))) + geom_point(),
        "the alpha aesthetic" = ggplot(mtcars, aes(wt, mpg, alpha = qsec)) + geom_point(),
        "shape = 17" = ggplot(mtcars, aes(wt, mpg)) + geom_point(shape = 17),
        "a second geom_point()" = base + geom_point(aes(y = qsec)),
        "facet_grid()" = base + facet_grid(am ~ gear),
        "facet_wrap(scales" = base + facet_wrap(~gear, scales = "free"),
        "the x scale is discrete" = ggplot(mtcars, aes(factor(cyl), mpg)) + geom_point(),
        "the y scale: the reciprocal" = base + scale_y_continuous(trans = "reciprocal"),
        "scale_colour_gradient2()'s midpoint" = ggplot(mtcars, aes(wt, mpg, colour = qsec)) +
            geom_point() + scale_colour_gradient2(),
        "the colour scale: binned" = ggplot(mtcars, aes(wt, mpg, colour = qsec)) +
            geom_point() + scale_colour_viridis_b(),
        "the size scale: labels" = base + scale_size(labels = scales::label_comma()),
        "the y scale: expand" = base + scale_y_continuous(expand = c(0, 0)),
        "coord_cartesian() with xlim" = base + coord_cartesian(xlim = c(2, 4)),
        "guides(...)" = base + guides(colour = guide_legend(ncol = 2)),
        "guide = \"none\" for the size legend only" = base + scale_size(guide = "none"),
        "theme_bw" = base + theme_bw(),
        "labs(tag" = base + labs(tag = "A"),
        "legend.position" = base + theme(legend.position = c(0.9, 0.9)),
        "size = 3; labels are drawn" = base0 + geom_text(aes(label = cyl), size = 3),
        "levels are not in sorted order" =
            base + facet_wrap(~factor(gear, levels = c(5, 4, 3))))
    for (what in names(cases)) {
        pr <- problems_of(cases[[what]])
        ok <- length(pr) >= 1 && any(grepl(what, pr, fixed = TRUE)) ||
            (what == "theme_bw" && any(grepl("differs from theme_", pr)))
        expect_true(ok, label = paste0(what, ": ", paste(pr, collapse = " | ")))
    }
})

test_that("strict = FALSE draws without them, with a warning", {
    p <- base0 + geom_smooth(method = "lm", formula = y ~ x)
    expect_warning(s <- bubble_from_ggplot(p, strict = FALSE), class = "bubble_unsupported_warning")
    expect_equal(s$mapping$x, "wt")
    old <- options(ngxbubble.strict = FALSE)
    on.exit(options(old))
    expect_warning(bubble_from_ggplot(p), class = "bubble_unsupported_warning")
    # bubble_ggsave is strict whatever the option
    expect_error(bubble_ggsave(tempfile(fileext = ".png"), p, width = 4, height = 3,
                               server = "http://127.0.0.1:9/chart"),
                 class = "bubble_unsupported")
})

test_that("only ggplots", {
    expect_error(bubble_from_ggplot(mtcars), "not a ggplot")
})
