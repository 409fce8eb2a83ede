# A minimal Shiny app of ngxbubble's bubbleOutput()/renderBubble(), for
# tests/r/shiny.test.mjs (headless Chromium).  The charts' server is
# NGXBUBBLE_SERVER (ngxbubble::bubble_server()).
library(shiny)
library(ggplot2)
library(ngxbubble)

ui <- fluidPage(
    numericInput("n", "cars", 32, min = 2, max = 32),
    bubbleOutput("chart", width = "640px", height = "400px"),
    bubbleOutput("unsupported", width = "320px", height = "200px")
)

server <- function(input, output, session) {
    output$chart <- renderBubble({
        cars <- head(mtcars, input$n)
        ggplot(cars, aes(wt, mpg, size = hp, colour = factor(cyl))) +
            geom_point(alpha = 0.7) +
            labs(title = sprintf("%d cars", nrow(cars)), colour = "cylinders") +
            theme_minimal()
    })
    # what the server cannot draw: the error shows in the output
    output$unsupported <- renderBubble({
        ggplot(mtcars, aes(wt, mpg)) + geom_point() + geom_line()
    })
}

shinyApp(ui, server)
