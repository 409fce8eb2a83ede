# title: Legends at the bottom, theme_minimal() and a reversed axis
# shows: bubble_from_ggplot() of a factor() colour, scale_y_reverse(), theme(legend.position = "bottom"), geom_text() labels
cars <- mtcars
cars$model <- rownames(mtcars)
p <- ggplot(cars, aes(hp, qsec, size = disp, colour = factor(cyl))) +
  geom_point(alpha = 0.7) +
  geom_text(aes(label = model)) +
  scale_y_reverse() +
  scale_size_area(max_size = 8, name = "Displacement") +
  labs(title = "Power and quarter-mile time", subtitle = "faster cars at the top",
       x = "Horsepower", y = "Quarter-mile time (s)", colour = "Cylinders") +
  theme_minimal() +
  theme(legend.position = "bottom")
spec <- bubble_from_ggplot(p, width = 760, height = 560)
