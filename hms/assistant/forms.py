from django import forms

from hms.assistant.models import Article
from hms.assistant.services import MAX_TEXT


class ChatForm(forms.Form):
    text = forms.CharField(label="Your message", max_length=MAX_TEXT)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(choices=[("1", "Helpful"), ("-1", "Not helpful")], coerce=int)


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["title", "body", "keywords", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
