# title: A continuous viridis colour bar
# shows: bubble_from_ggplot() of scale_colour_viridis_c() (a colour bar legend), a size legend, theme_minimal()
p <- ggplot(mtcars, aes(wt, mpg, size = hp, colour = qsec)) +
  geom_point(alpha = 0.8) +
  scale_colour_viridis_c(name = "1/4 mile (s)") +
  scale_size_area(max_size = 10, name = "Horsepower") +
  labs(title = "Heavier cars use more fuel",
       subtitle = "mtcars (1974 Motor Trend); colour is the quarter-mile time",
       x = "Weight (1000 lbs)", y = "Miles per gallon") +
  theme_minimal()
spec <- bubble_from_ggplot(p, width = 760, height = 500)
