from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "hms.feedback"
    label = "feedback"
    verbose_name = "Feedback and Contact Us"

    def ready(self) -> None:
        from hms.feedback import handlers, navigation  # noqa: F401  (events, menu, widgets)
