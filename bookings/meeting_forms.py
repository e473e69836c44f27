"""Forms of the meeting pages: find and book several rooms at once, move a meeting."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .forms import FinderForm, RangeMixin, date_input, time_input
from .models import Meeting
from .services.meetings import MAX_ROOMS, MIN_ROOMS


class MeetingFinderForm(FinderForm):
    """The finder's where and when, with how many rooms for how many people each."""

    count = forms.IntegerField(label=_("Rooms"), min_value=MIN_ROOMS, max_value=MAX_ROOMS, initial=2)
    approval = forms.ChoiceField(
        label=_("If a room needs approval"),
        choices=[
            (Meeting.Approval.WAIT, _("the other rooms wait for the decision (all or none)")),
            (Meeting.Approval.GO_AHEAD, _("book the other rooms at once")),
        ],
        initial=Meeting.Approval.WAIT,
        required=False,
        widget=forms.RadioSelect,
    )
    key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].label = _("People per room")
        self.fields["title"].help_text = _("Without one the meeting is called “Meeting”.")

    def clean_approval(self):
        return self.cleaned_data.get("approval") or Meeting.Approval.WAIT


class MeetingMoveForm(RangeMixin, forms.Form):
    """A new day and time for every room, on the clocks of the first room's site."""

    date = forms.DateField(label=_("Date"), widget=date_input())
    start = forms.TimeField(label=_("Start"), widget=time_input())
    end = forms.TimeField(label=_("End"), widget=time_input())
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, data=None, *, tz, now, **kwargs):
        super().__init__(data, **kwargs)
        self.tz, self.now = tz, now

    def clean(self):
        cd = super().clean()
        self.clean_range(self.tz, self.now)
        if not self.errors and "start_at" not in cd:
            raise forms.ValidationError(gettext("Please fill in the day and the times."))
        return cd
