# bubble_spec(): specs from data.frames.

test_that("columns by name, string or a variable holding a string", {
    ycol <- "mpg"
    spec <- bubble_spec(mtcars, wt, ycol, size = "hp")
    expect_equal(spec$mapping, list(x = "wt", y = "mpg", size = "hp"))
    expect_equal(sort(names(spec$data)), c("hp", "mpg", "wt"))
    expect_equal(spec$data$wt, mtcars$wt)
})

test_that("a call such as factor(cyl) becomes a column of its own", {
    spec <- bubble_spec(mtcars, wt, mpg, color = factor(cyl))
    expect_equal(spec$mapping$color, "factor(cyl)")
    expect_equal(spec$data[["factor(cyl)"]], as.character(mtcars$cyl))
    expect_equal(spec$color$limits, c("4", "6", "8"))
})

test_that("other arguments are spec members; scales are merged", {
    spec <- bubble_spec(mtcars, wt, mpg, title = "cars", theme = "minimal",
                        scales = list(x = list(scale = "log10"), size = list(range = c(1, 9))))
    expect_equal(spec$title, "cars")
    expect_equal(spec$x, list(scale = "log10"))
    expect_equal(spec$size, list(range = c(1, 9)))
})

test_that("a factor colour keeps its level order; a facet column", {
    df <- data.frame(x = 1:4, y = 4:1, g = factor(c("b", "a", "c", "a"), levels = c("c", "b", "a")))
    spec <- bubble_spec(df, x, y, color = g, facet = g)
    expect_equal(spec$color$limits, c("c", "b", "a"))
    expect_equal(spec$facet, list(wrap = "g"))
})

test_that("missing columns and unsupported column types are R errors naming them", {
    expect_error(bubble_spec(mtcars, wt, nosuch), "no column nosuch")
    df <- data.frame(x = 1:2, y = 1:2, d = as.Date(c("2024-01-01", "2024-02-01")))
    expect_error(bubble_spec(df, x, y, label = d), "column d: a Date column")
    expect_error(bubble_spec(list(a = 1), a, a), "data.frame")
})
