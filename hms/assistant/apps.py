from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "hms.assistant"
    label = "assistant"
    verbose_name = "Patient assistant"

    def ready(self) -> None:
        from hms.assistant import navigation  # noqa: F401  (menu entry)
