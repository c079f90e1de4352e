using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        // The identity's own sign-in cookie lives on the console's address too (its login page is served through the
        // console, IdentityFront): without it the next sign-in asks for the account again, so another person, or the
        // same person as the Rapporteur's researcher, can sign in on this browser.
        Response.Cookies.Delete("ketenmesh-officer");
        return RedirectToPage("/SignedOut");
    }
}
