"""The public page "Aduan Terjawab" (issue 16): /publik/, figures per agency and answered complaints."""
