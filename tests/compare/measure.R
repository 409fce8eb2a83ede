# Measure where things are in a chart PNG, to compare ours with ggplot2's
# in numbers rather than by eye.
#
#   Rscript tests/compare/measure.R A.png [B.png ...]
#
# For each image: the panel's box (the largest area of the panel's fill,
# grey92 for theme "gray" and "dark"'s grey50; other themes have none),
# and the bands of "ink" (text, ticks: pixels darker than 60% grey) above
# the panel, below it, left of it, and right of it (the legend), each as
# pixel ranges.  Needs r-cran-png (apt-get install r-cran-png if it is
# missing).

suppressPackageStartupMessages(library(png))

bands <- function(v) {
    # runs of TRUE in v, as "a-b" strings (1-based, inclusive)
    r <- rle(v)
    ends <- cumsum(r$lengths)
    starts <- ends - r$lengths + 1
    keep <- r$values
    if (!any(keep)) return("none")
    paste0(starts[keep] - 1, "-", ends[keep] - 1)    # 0-based pixels
}

measure <- function(f) {
    img <- readPNG(f)
    if (length(dim(img)) == 2) img <- array(img, c(dim(img), 3))
    h <- dim(img)[1]; w <- dim(img)[2]
    r <- round(img[, , 1] * 255); g <- round(img[, , 2] * 255); b <- round(img[, , 3] * 255)
    cat(sprintf("%s: %d x %d\n", f, w, h))

    panel_fill <- NULL
    for (fill in c(235, 127)) {                          # grey92, grey50
        m <- abs(r - fill) <= 1 & abs(g - fill) <= 1 & abs(b - fill) <= 1
        if (sum(m) > 0.2 * w * h) { panel_fill <- fill; break }
    }
    if (is.null(panel_fill)) {
        cat("  no grey panel (theme minimal/classic): ink bands of the whole image\n")
        ink <- (0.299 * r + 0.587 * g + 0.114 * b) < 153
        cat("  ink rows:", bands(rowSums(ink) > 0), "\n")
        return(invisible())
    }
    cols <- colSums(m) > 0.5 * max(colSums(m))
    rows <- rowSums(m) > 0.5 * max(rowSums(m))
    x0 <- min(which(cols)) - 1; x1 <- max(which(cols)) - 1
    y0 <- min(which(rows)) - 1; y1 <- max(which(rows)) - 1
    cat(sprintf("  panel: x %d-%d (w %d), y %d-%d (h %d)\n", x0, x1, x1 - x0 + 1,
                y0, y1, y1 - y0 + 1))

    lum <- 0.299 * r + 0.587 * g + 0.114 * b
    ink <- lum < 153 & !(abs(r - g) > 40 | abs(g - b) > 40)   # greys only: no bubbles
    above <- ink[seq_len(max(1, y0 - 1)), , drop = FALSE]
    cat("  above panel, ink rows:", bands(rowSums(above) > 0), "\n")
    for (band in bands(rowSums(above) > 0)) {
        if (band == "none") break
        yy <- as.integer(strsplit(band, "-")[[1]]) + 1
        xs <- which(colSums(ink[yy[1]:yy[2], , drop = FALSE]) > 0) - 1
        cat(sprintf("    rows %s: x %d-%d\n", band, min(xs), max(xs)))
    }
    below <- ink[(y1 + 2):h, x0:x1 + 1, drop = FALSE]
    cat("  below panel, ink rows:", bands(rowSums(below) > 0), "(offset", y1 + 1, ")\n")
    left <- ink[y0:y1 + 1, seq_len(max(1, x0 - 1)), drop = FALSE]
    cat("  left of panel, ink columns:", bands(colSums(left) > 0), "\n")
    if (x1 + 2 < w) {
        right <- ink[, (x1 + 2):w, drop = FALSE]
        rr <- bands(rowSums(right) > 0)
        cc <- which(colSums(right) > 0)
        if (length(cc)) {
            cat(sprintf("  right of panel (legend): ink x %d-%d, rows %s\n",
                        min(cc) + x1, max(cc) + x1, paste(rr, collapse = " ")))
        }
    }
}

for (f in commandArgs(trailingOnly = TRUE)) measure(f)
