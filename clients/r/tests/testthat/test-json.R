# Specs as JSON through jsonlite: arrays, nulls, numbers, strings.

test_that("data columns and limits/breaks/range are arrays even of one element", {
    spec <- list(data = list(x = 1, y = 2L, g = "a"),
                 x = list(breaks = 5, limits = c(0, 10), title = "x"),
                 size = list(range = 3), color = list(palette = I("red")))
    expect_equal(as.character(bubble_json(spec)), paste0(
        '{"data":{"x":[1],"y":[2],"g":["a"]},"x":{"breaks":[5],"limits":[0,10],',
        '"title":"x"},"size":{"range":[3]},"color":{"palette":["red"]}}'))
})

test_that("a data.frame is written as columns; factors and NA as strings and null", {
    df <- data.frame(x = c(1.5, NA, Inf), y = c(1L, NA, 3L),
                     f = factor(c("b", "a", NA), levels = c("b", "a")))
    expect_equal(as.character(bubble_json(list(data = df))),
                 '{"data":{"x":[1.5,null,null],"y":[1,null,3],"f":["b","a",null]}}')
})

test_that("width, height and facet ncol are integers; NULL members are null", {
    spec <- list(width = 800, height = 6e2, facet = list(wrap = "g", ncol = 3),
                 mapping = list(x = "a", y = "b", size = NULL), data = list(a = 1, b = 2))
    expect_equal(as.character(bubble_json(spec)), paste0(
        '{"width":800,"height":600,"facet":{"wrap":"g","ncol":3},',
        '"mapping":{"x":"a","y":"b","size":null},"data":{"a":[1],"b":[2]}}'))
})

test_that("doubles read back as the very same doubles", {
    x <- c(0.1 + 0.2, 1 / 3, 1e-5, 2.3866502419737188, 123456.789, -0, 7, 1e16, 1e22,
           .Machine$double.xmin, .Machine$double.xmax, pi * 1e-300, runif(200) * 1e6)
    json <- bubble_json(list(data = list(x = x), alpha = 0.1 + 0.2))
    back <- jsonlite::fromJSON(json)
    expect_identical(back$data$x, x)
    expect_identical(back$alpha, 0.1 + 0.2)
    # and as R prints them where 15 digits do
    expect_match(json, '"x":[0.30000000000000004,', fixed = TRUE)
    expect_match(json, ",1e-05,2.3866502419737188,123456.789,-0,7,1e+16,1e+22,", fixed = TRUE)
})

test_that("strings are UTF-8 JSON strings, escaped where they must be", {
    s <- c("plain", "quote \" and \\ backslash", "tab\tnewline\n", "\u4e2d\u6587",
           "\u00e9t\u00e9 \u2014 \U0001F600", "ctl\001\037", NA, "</script> & co")
    json <- bubble_json(list(data = list(s = s), title = s[5]))
    expect_true(validUTF8(json))
    back <- jsonlite::fromJSON(json)
    expect_identical(back$data$s, s)
    expect_identical(back$title, s[5])
    expect_match(json, "\u4e2d\u6587", fixed = TRUE)
})

test_that("a JSON string is passed through as it is", {
    json <- '{"data": {"x": [1], "y": [2.50]}}'
    expect_equal(as.character(bubble_json(json)), json)
})

test_that("bubble_read_spec reads what bubble_json writes back to the same JSON", {
    spec <- list(width = 640L, title = "t\u00e9", data = list(x = c(1.25, NA), y = c(2, 3),
                 g = c("a", NA)), x = list(breaks = 1, labels = I("one")),
                 mapping = list(x = "x", y = "y", color = "g"),
                 color = list(palette = I(c("red", "#00ff00"))))
    json <- bubble_json(spec)
    back <- bubble_read_spec(json)
    expect_identical(as.character(bubble_json(back)), as.character(json))
    f <- tempfile(fileext = ".json")
    writeLines(bubble_json(spec, pretty = TRUE), f, useBytes = TRUE)
    expect_identical(as.character(bubble_json(bubble_read_spec(f))), as.character(json))
})

test_that("a spec in the rows form is written as columns", {
    json <- '{"data":[{"x":1,"y":2.5,"g":"a"},{"x":2,"g":"b"},{"x":3,"y":null}]}'
    expect_equal(as.character(bubble_json(bubble_read_spec(json))),
                 '{"data":{"x":[1,2,3],"y":[2.5,null,null],"g":["a","b",null]}}')
})

test_that("pretty JSON is the same JSON value", {
    spec <- bubble_spec(mtcars, wt, mpg, size = hp, title = "cars")
    expect_identical(jsonlite::fromJSON(bubble_json(spec, pretty = TRUE)),
                     jsonlite::fromJSON(bubble_json(spec)))
    expect_match(bubble_json(spec, pretty = TRUE), "\n  \"data\": {\n", fixed = TRUE)
})

test_that("a spec must be a named list", {
    expect_error(bubble_json(list(1, 2)), "named list")
    expect_error(bubble_json(mtcars), "named list")
})
