# ggplots converted by bubble_from_ggplot() are drawn by the server with
# the axis tick labels, legend titles and legend entries that
# ggplot_build() gives ggplot2's own rendering (read from our SVG's text).

svg_texts <- function(svg) {
    m <- regmatches(svg, gregexpr("<text[^>]*>[^<]*</text>", svg))[[1]]
    attr_of <- function(a) {
        v <- regmatches(m, regexec(sprintf(" %s=\"([^\"]*)\"", a), m))
        vapply(v, function(x) if (length(x) > 1) x[2] else NA_character_, "")
    }
    unesc <- function(s) {
        s <- gsub("&lt;", "<", s, fixed = TRUE)
        s <- gsub("&gt;", ">", s, fixed = TRUE)
        s <- gsub("&quot;", "\"", s, fixed = TRUE)
        s <- gsub("&#39;", "'", s, fixed = TRUE)
        gsub("&amp;", "&", s, fixed = TRUE)
    }
    data.frame(x = as.numeric(attr_of("x")), y = as.numeric(attr_of("y")),
               size = as.numeric(attr_of("font-size")),
               anchor = ifelse(is.na(attr_of("text-anchor")), "start", attr_of("text-anchor")),
               rotated = !is.na(attr_of("transform")),
               text = unesc(sub("^<text[^>]*>", "", sub("</text>$", "", m))),
               stringsAsFactors = FALSE)
}

# a sequence that is `want` repeated once per panel
repeats <- function(got, want) {
    length(want) > 0 && length(got) %% length(want) == 0 && length(got) > 0 &&
        identical(got, rep(want, length(got) / length(want)))
}

# ggplot2's tick labels of one panel, in the order of their position
gg_ticks <- function(pp, a) {
    v <- pp[[a]]
    br <- v$get_breaks()
    lab <- v$get_labels()
    keep <- !is.na(br) & !is.na(lab)
    as.character(lab[keep][order(br[keep])])
}

gg_legend <- function(b, aes) {
    sc <- b$plot$scales$get_scales(aes)
    if (is.null(sc)) return(NULL)
    title <- if (!inherits(sc$name, "waiver")) sc$name else b$plot$labels[[aes]]
    if (inherits(sc, "ScaleDiscrete")) {
        return(list(title = title, labels = as.character(sc$get_labels()), bar = FALSE))
    }
    br <- sc$get_breaks()
    lab <- sc$get_labels(br)
    keep <- !is.na(br)
    list(title = title, labels = as.character(lab[keep][order(br[keep])]),
         bar = aes %in% c("colour", "fill"))
}

for (n in names(test_plots())) {
    test_that(paste0(n, ": ggplot2's ticks, legends and titles"), {
        srv <- test_server()
        p <- test_plots()[[n]]
        b <- ggplot2::ggplot_build(p)
        svg <- bubble_svg(bubble_from_ggplot(p), srv)
        t <- svg_texts(svg)
        base_size <- p$theme$text$size %||% 11
        tick <- round(0.8 * base_size * 96 / 72, 2)
        big <- round(base_size * 96 / 72, 2)
        pp <- b$layout$panel_params[[1]]

        xt <- t[t$anchor == "middle" & !t$rotated & abs(t$size - tick) < 0.02, ]
        xt <- xt[xt$y == max(xt$y), ]
        got <- xt$text[order(xt$x)]
        want <- gg_ticks(pp, "x")
        expect_true(repeats(got, want), label = sprintf("x ticks %s are ggplot2's %s",
                    paste(got, collapse = " "), paste(want, collapse = " ")))

        yt <- t[t$anchor == "end" & abs(t$size - tick) < 0.02, ]
        yt <- yt[yt$x == min(yt$x), ]
        got <- yt$text[order(-yt$y)]
        want <- gg_ticks(pp, "y")
        expect_true(repeats(got, want), label = sprintf("y ticks %s are ggplot2's %s",
                    paste(got, collapse = " "), paste(want, collapse = " ")))

        if (inherits(p$facet, "FacetWrap")) {
            strips <- as.character(b$layout$layout[[names(p$facet$params$facets)[1]]])
            st <- t[t$anchor == "middle" & !t$rotated & t$text %in% strips, ]
            expect_identical(st$text[order(round(st$y), st$x)], strips)
        }

        legends <- Filter(Negate(is.null), lapply(c("size", "colour", "fill"), gg_legend, b = b))
        expect_gt(length(legends), 0)
        titles <- t[abs(t$size - big) < 0.02 & t$text %in% vapply(legends, `[[`, "", "title"), ]
        for (lg in legends) {
            tt <- titles[titles$text == lg$title, ]
            expect_equal(nrow(tt), 1, label = sprintf("legend \"%s\" drawn once", lg$title))
            if (nrow(tt) != 1) next
            if (identical(p$theme$legend.position, "bottom")) {
                # entries to the right of the title, on its line
                lab <- t[abs(t$size - tick) < 0.02 & t$x > tt$x & abs(t$y - tt$y) < 40 &
                         !(t$text %in% titles$text), ]
                others <- titles$x[titles$x > tt$x]
                if (length(others)) lab <- lab[lab$x < min(others), ]
                got <- lab$text[order(lab$x)]
            } else {
                below <- titles$y[titles$y > tt$y]
                stop_y <- if (length(below)) min(below) else Inf
                lab <- t[t$anchor == "start" & abs(t$size - tick) < 0.02 & t$x >= tt$x &
                         t$y > tt$y & t$y < stop_y, ]
                got <- lab$text[order(lab$y)]
            }
            want <- if (lg$bar) rev(lg$labels) else lg$labels
            expect_identical(got, want, label = sprintf("legend \"%s\" entries", lg$title))
        }
        for (k in c("title", "subtitle", "caption")) {
            if (!is.null(b$plot$labels[[k]])) {
                expect_true(b$plot$labels[[k]] %in% t$text, label = paste(k, "drawn"))
            }
        }
    })
}
